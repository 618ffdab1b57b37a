"""``movierec train`` and ``movierec evaluate``: read the store, hand frames to the recommender.

The recommender never sees a session: these read the ratings frame and the catalog's movie
ids from the store and pass them, with the seed and the output folder, as plain values.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from data.db import open_store
from data.movies import catalog_movie_ids
from movierec.commands.guard import CommandError, guarded
from movierec.commands.store import nonempty_ratings
from movierec.settings import Settings
from recommender.artifact import catalog_fingerprint, prune
from recommender.comparison import run_comparison
from recommender.report import to_markdown
from recommender.serving import Recommender, UserRatings
from recommender.training import ServedConfig, fit_recommender

log = logging.getLogger(__name__)


def read_store(database_url: str) -> tuple[pd.DataFrame, np.ndarray]:
    engine = open_store(database_url)
    try:
        with engine.connect() as conn:
            frame = nonempty_ratings(conn)
            catalog = np.asarray(catalog_movie_ids(conn), dtype=np.int64)
    finally:
        engine.dispose()
    return frame, catalog


def ratings_fingerprint(frame: pd.DataFrame) -> str:
    """Digest of every rating in the store, recorded so an artifact names the data it saw."""
    digest = hashlib.sha256()
    for column in ("user_id", "movie_id", "rating", "timestamp"):
        digest.update(np.ascontiguousarray(frame[column].to_numpy()).tobytes())
    return digest.hexdigest()


def training_rmse(frame: pd.DataFrame, recommender: Recommender) -> float:
    """RMSE of the served rating model on its own training ratings, users folded in."""
    errors = []
    for _, rows in frame.groupby("user_id"):
        user = UserRatings.from_frame(rows)
        errors.append(recommender.predict(user, user.movie_ids) - user.ratings)
    return float(np.sqrt(np.mean(np.concatenate(errors) ** 2)))


def publish(settings: Settings, recommender: Recommender, meta: dict[str, Any]) -> Path:
    """Save the artifact (``LATEST`` swapped to it) and drop models past ``models_keep``: how
    every engine's ``train`` ends, so the servers see one kind of new model whoever fitted it."""
    folder = recommender.save(settings.resolved_models_dir, meta)
    for removed in prune(settings.resolved_models_dir, keep=settings.models_keep):
        log.info("removed old model %s (keeping %d)", removed, settings.models_keep)
    return folder


def run_train(settings: Settings, *, seed: int) -> int:
    """Fit the served models on every rating in the store and write a new artifact."""

    def work() -> int:
        frame, catalog = read_store(settings.resolved_database_url)
        config = ServedConfig()
        started = time.perf_counter()
        with _unfittable(frame):
            recommender = fit_recommender(frame, config, seed=seed, catalog_movie_ids=catalog)
        fit_seconds = time.perf_counter() - started
        meta = {
            "engine": {"name": "numpy"},
            "hyper_parameters": {
                "ranker": asdict(config.ranker),
                "rating": asdict(config.rating),
                "popularity": config.popularity,
                "seed": seed,
            },
            "data": {
                "ratings": len(frame),
                "users": int(frame["user_id"].nunique()),
                "movies": len(recommender.movie_ids),
                "ratings_sha256": ratings_fingerprint(frame),
            },
            "catalog_fingerprint": catalog_fingerprint(catalog),
            "metrics": {
                "fit_seconds": round(fit_seconds, 3),
                "training_rmse": round(training_rmse(frame, recommender), 4),
            },
        }
        folder = publish(settings, recommender, meta)
        log.info(
            "trained %s on %d ratings in %.1f s: %s",
            recommender.algorithm,
            len(frame),
            fit_seconds,
            folder,
        )
        return 0

    return guarded(work)


def run_evaluate(settings: Settings, *, out: Path | None = None, seed: int, quick: bool) -> int:
    """Compare every model on the store's ratings; write evaluation.md and .json to ``out``
    (default ``<data dir>/evaluation``)."""

    def work() -> int:
        folder = out or settings.evaluation_dir
        frame, catalog = read_store(settings.resolved_database_url)
        with _unfittable(frame):
            results = run_comparison(frame, seed=seed, quick=quick, catalog_movie_ids=catalog)
        command = f"movierec evaluate --seed {seed}{' --quick' if quick else ''}"
        folder.mkdir(parents=True, exist_ok=True)
        # The JSON first: it holds everything the (slow) comparison measured, whatever the
        # Markdown rendering does.
        (folder / "evaluation.json").write_text(json.dumps(results, indent=2) + "\n")
        markdown = to_markdown(results, command=command)
        (folder / "evaluation.md").write_text(markdown)
        print(markdown)
        log.info("wrote %s and %s", folder / "evaluation.md", folder / "evaluation.json")
        return 0

    return guarded(work)


@contextmanager
def _unfittable(frame: pd.DataFrame) -> Iterator[None]:
    """The recommender raises ``ValueError`` for ratings it cannot fit (one user, say): that is
    the store's content, not a bug, so the user gets a message instead of a traceback."""
    try:
        yield
    except ValueError as exc:
        raise CommandError(
            f"cannot fit the models on the store's {len(frame):,} ratings: {exc}"
        ) from exc
