"""TMDB metadata of a movie and the choice of its source.

Two sources can describe a movie: a fresh TMDB response in the on-disk cache (``movierec etl
enrich``) and the original app's ``combined_movies.csv``. The cache wins where it has a
response, because it is newer and carries the movie's own backdrop; a movie TMDB does not know
(cached 404) falls back to the CSV.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Metadata:
    """The ``movies`` columns TMDB fills, by the same names (the load writes them as fields).

    Every field defaults to unknown, so a new one needs only its line here and in ``from_tmdb``;
    a source that lacks it (``combined_movies.csv``) leaves it NULL.
    """

    original_title: str | None = None
    overview: str | None = None
    poster_path: str | None = None
    backdrop_path: str | None = None

    @classmethod
    def from_tmdb(cls, body: Mapping[str, Any]) -> Metadata:
        """From a ``GET /3/movie/{id}`` body; the movie's own ``backdrop_path``, never the
        collection's (the original app's mistake)."""
        return cls(
            original_title=_text(body.get("original_title")),
            overview=_text(body.get("overview")),
            poster_path=_text(body.get("poster_path")),
            backdrop_path=_text(body.get("backdrop_path")),
        )


EMPTY = Metadata()
FROM_CACHE = "TMDB cache"
FROM_COMBINED = "combined_movies.csv"
FROM_NOTHING = "none (MovieLens fields only)"


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


def choose_metadata(
    tmdb_ids: Mapping[int, int | None],
    cached: Callable[[int], Metadata | None],
    combined: Mapping[int, Metadata],
) -> tuple[dict[int, Metadata], Counter[str]]:
    """Metadata per movie id from the best source, and how many movies each source served.

    ``tmdb_ids`` maps every movie to its TMDB id; ``cached`` returns the cached TMDB metadata
    for a TMDB id (``None`` when there is no good cached response).
    """
    chosen: dict[int, Metadata] = {}
    sources: Counter[str] = Counter()
    for movie_id, tmdb_id in tmdb_ids.items():
        fresh = cached(tmdb_id) if tmdb_id is not None else None
        if fresh is not None:
            chosen[movie_id], source = fresh, FROM_CACHE
        elif movie_id in combined:
            chosen[movie_id], source = combined[movie_id], FROM_COMBINED
        else:
            chosen[movie_id], source = EMPTY, FROM_NOTHING
        sources[source] += 1
    return chosen, sources
