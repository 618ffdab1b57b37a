"""Recommendations, predicted ratings and similar movies for the GraphQL API and the legacy shim.

Serving is stateless: every call reads the user's current ratings from the store and hands them
to the recommender, which folds them in. A rating written a moment ago therefore shows in the
next answer, in every worker, without a retrain; an unknown user or one without ratings gets the
recommender's cold-start (popularity) list.

The ranking itself (the costly part: a product over every movie's factors) is kept per worker in
a ``RankingCache`` keyed by the model's generation and the user's version of their inputs,
which triggers in the store change with every write to them, so it is reused only while they
are unchanged (graph/services/ranking_cache.py).
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Hashable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sqlalchemy import Connection, Engine

from data.db import UNANSWERED, LoopReads
from data.movies import catalog_movie_ids
from data.ratings import ranking_inputs, ranking_version, ratings_frame, user_rating_arrays
from graph.services.catalog import RAIL_DEPTH, Catalog, check_page_size
from graph.services.ranking_cache import DEFAULT_ENTRIES, RankingCache, read_only
from recommender import artifact
from recommender.artifact import ArtifactError
from recommender.serving import Recommender, UserRatings

log = logging.getLogger(__name__)

# At most this many rated movies explain a recommendation: "because you rated A, B and C".
REASONS = 3
# How deep "See all" pages through the recommendations: as deep as a rail (catalog.RAIL_DEPTH);
# past that, a ranking of everything unseen says little, and search lists the rest.
RECOMMENDATION_DEPTH = RAIL_DEPTH


@dataclass(frozen=True, slots=True)
class Checked:
    """What the check of a user's cached ranking found on the event loop
    (``Recommendations.check_on_loop``): the ranking when cached, else the version it read,
    which the ranking in a thread then uses instead of reading it again."""

    version: int | None
    ranked: np.ndarray | None = None

    def head(self, first: int) -> list[int] | None:
        """The ``first`` ids of the cached ranking, None on a miss."""
        check_page_size(first)
        return None if self.ranked is None else self.ranked[:first].tolist()


@dataclass(frozen=True, slots=True)
class Reason:
    """One of the user's rated movies behind a recommendation, with its share of the score."""

    movie_id: int
    rating: float
    share: float


def load_trained(engine: Engine, models_dir: Path) -> Recommender:
    """The trained model for the store's catalog; raises ArtifactError when it cannot be used.

    ``movierec serve`` calls it once before workers start, so a damaged model stops the start.
    """
    with engine.connect() as conn:
        catalog_ids = np.array(catalog_movie_ids(conn), dtype=np.int64)
    return Recommender.load(models_dir, catalog_movie_ids=catalog_ids)


def load_recommender(engine: Engine, models_dir: Path) -> Recommender:
    """The trained model, or the popularity ranking (with a warning) when it cannot be loaded."""
    try:
        return load_trained(engine, models_dir)
    except ArtifactError as exc:
        log.warning("serving the popularity ranking: the model could not be loaded: %s", exc)
    with engine.connect() as conn:
        return Recommender.popularity(ratings_frame(conn))


class Recommendations:
    def __init__(
        self,
        engine: Engine,
        recommender: Recommender,
        catalog: Catalog,
        models_dir: Path | None = None,
        *,
        cache_entries: int = DEFAULT_ENTRIES,
        loop_reads: LoopReads | None = None,
    ) -> None:
        self._engine = engine
        self._catalog = catalog
        self._models_dir = models_dir
        self._refused: str | None = None
        self._generations = itertools.count()
        self._loop_reads = loop_reads or LoopReads(engine)
        self.rankings = RankingCache(cache_entries)
        self.recommender = recommender

    @property
    def recommender(self) -> Recommender:
        return self._served[0]

    @recommender.setter
    def recommender(self, recommender: Recommender) -> None:
        """Serve ``recommender`` from now on: a new generation, so no ranking cached for the
        previous model can be served (one assignment: a request reads the pair at once)."""
        self._served = (recommender, next(self._generations))
        self.rankings.clear()  # unreachable now; free the memory rather than age it out

    def refresh(self) -> bool:
        """Switch to the artifact ``LATEST`` names if it is not the one served; True if switched.

        The new model is loaded completely before one attribute assignment swaps it in, so a
        request uses either the old model or the new one. An artifact that fails to load is
        logged once and the current model kept: a bad retrain never takes a working server down.
        """
        if self._models_dir is None:
            return False
        latest = artifact.latest_version(self._models_dir)
        if latest is None or latest in (self.recommender.version, self._refused):
            return False
        try:
            loaded = load_trained(self._engine, self._models_dir)
        except ArtifactError as exc:
            log.warning(
                "kept model %s: the new one failed to load: %s", self.recommender.version, exc
            )
            self._refused = latest
            return False
        self.recommender = loaded
        log.info("now serving model %s (%s)", loaded.version, loaded.algorithm)
        return True

    def user_ratings(self, user_id: int) -> UserRatings:
        with self._engine.connect() as conn:
            return _user_ratings(conn, user_id)

    async def check_on_loop(self, user_id: int, genre: str | None = None) -> Checked | None:
        """The cached ranking's check, made on the calling event loop (``data.db.LoopReads``):
        the user's version and, when the cache holds it, the ranking; None when the store
        could not answer there (a lock, a slow read, every connection busy, GraphQL's own
        loop), for ``for_user`` in a thread to check instead."""
        version = await self._loop_reads.read(ranking_version(user_id))
        return None if version is UNANSWERED else self.check(user_id, version, genre)

    def check(self, user_id: int, version: int | None, genre: str | None = None) -> Checked:
        """The cached ranking's check for a version read already (by ``check_on_loop``, or
        with the viewer's token: ``data.tokens.Holder``); no SQL."""
        if version is None:
            return Checked(None)
        generation = self._served[1]
        return Checked(version, self.rankings.get(ranking_key(generation, genre, user_id, version)))

    def for_user(
        self, user_id: int, first: int, genre: str | None = None, checked: Checked | None = None
    ) -> list[int]:
        """The ``first`` movie ids to recommend, best first (a row, the legacy shim's list): the
        head of ``page``'s ranking, so a row and its "See all" agree. ``checked``: what
        ``check_on_loop`` found, so the version is not read twice."""
        check_page_size(first)
        ranked: list[int] = self._ranked(user_id, genre, checked)[:first].tolist()
        return ranked

    def page(
        self, user_id: int, *, first: int, offset: int, genre: str | None = None
    ) -> tuple[list[int], int]:
        """One page of the recommendations, ``RECOMMENDATION_DEPTH`` deep, and their number."""
        check_page_size(first)
        ranked = self._ranked(user_id, genre)
        return ranked[offset : offset + first].tolist(), len(ranked)

    def _ranked(
        self, user_id: int, genre: str | None, checked: Checked | None = None
    ) -> np.ndarray:
        """The ``RECOMMENDATION_DEPTH`` movie ids to recommend, best first, among movies the user
        has neither rated nor saved to their watchlist (a saved movie is already chosen; it
        returns once unsaved); read-only, from the cache while model and inputs are unchanged.

        A hit reads one row, the user's version of their ratings and watchlist (kept by
        triggers: ``data.schema.user_versions``); a miss reads the inputs with their version in
        one statement (one snapshot) and caches the ranking under that version. A user without
        a version should have no inputs: those share one cold-start entry per genre, found after
        reading the (empty) inputs, so a user whose version row went missing with inputs still
        stored is ranked anew, never served someone else's list.

        Always ranked to the full depth, so every page and row is a slice of one list whether
        it came from the cache or not (ties at a shorter depth could pick other movies).
        """
        recommender, generation = self._served
        if checked is not None and checked.ranked is not None:
            return checked.ranked
        with self._engine.connect() as conn:
            if checked is None:
                version = ranking_version(user_id)(conn)
                if version is not None:
                    cached = self.rankings.get(ranking_key(generation, genre, user_id, version))
                    if cached is not None:
                        return cached
            inputs = ranking_inputs(conn, user_id)
        cold = inputs.version is None and not (len(inputs.movie_ids) or len(inputs.saved))
        key = ranking_key(generation, genre, user_id, inputs.version)
        if cold and (cached := self.rankings.get(key)) is not None:
            return cached
        members = self._catalog.genre_members(genre) if genre is not None else None
        allowed = None if members is None else np.fromiter(members, dtype=np.int64)
        user = UserRatings(movie_ids=inputs.movie_ids, ratings=inputs.ratings)
        ranked = recommender.top_ids(
            user, RECOMMENDATION_DEPTH, allowed=allowed, excluded=inputs.saved
        )
        if inputs.version is None and not cold:  # inputs without a version: nothing to key by
            return read_only(ranked)
        return self.rankings.put(key, ranked)

    def predicted(self, user: UserRatings, movie_ids: list[int]) -> list[float | None]:
        """Predicted ratings in the order of ``movie_ids``; None where the model has no opinion."""
        scores = self.recommender.predict(user, np.array(movie_ids, dtype=np.int64))
        return [None if np.isnan(score) else float(score) for score in scores]

    def reasons(self, user: UserRatings, movie_ids: list[int]) -> list[list[Reason]]:
        """Per movie of ``movie_ids``, the rated movies that argue *for* it, strongest first.

        Contributions against a movie (a disliked film like it) are left out: "because you
        rated" names reasons to watch. One model call for the whole list.
        """
        found: dict[int, list[Reason]] = {}
        wanted = np.array(movie_ids, dtype=np.int64)
        for explanation in self.recommender.explain(user, wanted, top=REASONS):
            found[explanation.movie_id] = [
                Reason(part.movie_id, part.rating, part.share)
                for part in explanation.because
                if part.share > 0
            ]
        return [found.get(movie_id, []) for movie_id in movie_ids]

    def similar(self, movie_id: int, first: int) -> list[int]:
        check_page_size(first)
        return self.recommender.similar(movie_id, first)

    def similar_lists(self, asked: list[tuple[int, int]]) -> list[list[int]]:
        """``similar`` for each (movie id, first) pair: a list of movies' neighbours at once."""
        return [self.similar(movie_id, first) for movie_id, first in asked]


def ranking_key(generation: int, genre: str | None, user_id: int, version: int | None) -> Hashable:
    """The cache key of a ranking: the model's generation in this worker, the genre filter and
    the user's inputs, named by (user, version), or by None for every user without any."""
    return (generation, genre, None if version is None else (user_id, version))


def _user_ratings(conn: Connection, user_id: int) -> UserRatings:
    movie_ids, ratings, rated_at = user_rating_arrays(conn, user_id)
    return UserRatings(movie_ids=movie_ids, ratings=ratings, rated_at=rated_at)
