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
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, NamedTuple, Protocol

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
from recommender.serving import Recommender
from recommender.training import ServedConfig, fit_recommender, rating_hyper_parameters

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


def publish(settings: Settings, recommender: Recommender, meta: dict[str, Any]) -> Path:
    """Save the artifact (``LATEST`` swapped to it) and drop models past ``models_keep``: how
    every engine's ``train`` ends, so the servers see one kind of new model whoever fitted it."""
    folder = recommender.save(settings.resolved_models_dir, meta)
    for removed in prune(settings.resolved_models_dir, keep=settings.models_keep):
        log.info("removed old model %s (keeping %d)", removed, settings.models_keep)
    return folder


@dataclass
class Phases:
    """Wall and CPU seconds (every thread's) of each phase of ``movierec train``: its log line
    says where the time went, and ``bench/train_command.py`` prints them."""

    seconds: dict[str, tuple[float, float]] = field(default_factory=dict)

    @contextmanager
    def timed(self, name: str) -> Iterator[None]:
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            yield
        finally:
            self.seconds[name] = (time.perf_counter() - wall, time.process_time() - cpu)

    def __str__(self) -> str:
        return ", ".join(
            f"{name} {wall:.1f} s ({cpu:.1f} s CPU)" for name, (wall, cpu) in self.seconds.items()
        )


class Trained(NamedTuple):
    recommender: Recommender
    folder: Path
    ratings: int
    phases: Phases


class Fit(Protocol):
    def __call__(
        self, frame: pd.DataFrame, config: ServedConfig, *, seed: int, catalog_movie_ids: np.ndarray
    ) -> Recommender: ...


def train(settings: Settings, *, seed: int, fit: Fit = fit_recommender) -> Trained:
    """Fit the served models on every rating in the store and publish a new artifact.

    ``fit`` is :func:`fit_recommender`; ``bench/train_command.py --skip-fit`` passes one that
    loads an artifact instead, to time every other phase at scale without a fit's minutes.
    """
    phases = Phases()
    with phases.timed("read"):
        frame, catalog = read_store(settings.resolved_database_url)
    config = ServedConfig()
    with phases.timed("fit"), _unfittable(frame):
        recommender = fit(frame, config, seed=seed, catalog_movie_ids=catalog)
    with phases.timed("training RMSE"):
        rmse = recommender.training_rmse(frame)
    n_ratings = len(frame)
    with phases.timed("fingerprints"):
        data = {
            "ratings": n_ratings,
            "users": int(frame["user_id"].nunique()),
            "movies": len(recommender.movie_ids),
            "ratings_sha256": ratings_fingerprint(frame),
        }
        catalog_digest = catalog_fingerprint(catalog)
    del frame
    meta = {
        "engine": {"name": "numpy"},
        "hyper_parameters": {
            "ranker": asdict(config.ranker),
            "rating": rating_hyper_parameters(config, n_ratings),
            "popularity": config.popularity,
            "seed": seed,
        },
        "data": data,
        "catalog_fingerprint": catalog_digest,
        "metrics": {
            "fit_seconds": round(phases.seconds["fit"][0], 3),
            "training_rmse": round(rmse, 4),
        },
    }
    with phases.timed("save"):
        folder = publish(settings, recommender, meta)
    return Trained(recommender, folder, n_ratings, phases)


def run_train(settings: Settings, *, seed: int) -> int:
    """``movierec train``: :func:`train`, then one log line with where the time went."""

    def work() -> int:
        trained = train(settings, seed=seed)
        log.info(
            "trained %s on %d ratings: %s; %s",
            trained.recommender.algorithm,
            trained.ratings,
            trained.folder,
            trained.phases,
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
