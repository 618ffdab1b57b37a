"""``movierec train`` as a whole, store to artifact, with the time of each phase.

    MOVIEREC_DATA_DIR=<store> [MOVIEREC_MODELS_DIR=<dir>] .venv/bin/python bench/train_command.py

Runs what the command runs (``movierec.commands.training.train``: read the store, fit, the
training RMSE, fingerprints, save and publish) in this process, and prints each phase's wall and
CPU seconds (every thread's), the whole run's wall and CPU seconds, the peak RSS (``ru_maxrss``,
as ``/usr/bin/time -v`` reports it) and the load average at start and end. ``bench/train_scale.py``
measures the fit alone from a MovieLens folder; this is the figure the 10-minute target is about.
The artifact is published like ``movierec train``'s (``MOVIEREC_MODELS_DIR`` puts it elsewhere,
e.g. beside a store that must not change).

``--skip-fit`` loads the models folder's latest artifact (trained on this store) in place of the
fit: every other phase at scale in a minute or two, when the machine has no window for the fit's
minutes (``bench/train_scale.py`` measures the fit).
"""

from __future__ import annotations

import argparse
import logging
import os
import resource
import time

import numpy as np
import pandas as pd

from movierec.commands.training import Fit, train
from movierec.settings import Settings
from recommender.serving import Recommender
from recommender.training import ServedConfig, fit_recommender


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--skip-fit", action="store_true", help="load the latest artifact")
    args = parser.parse_args()
    settings = Settings()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    load = os.getloadavg()[0]
    started = time.perf_counter()
    trained = train(
        settings, seed=args.seed, fit=latest(settings) if args.skip_fit else fit_recommender
    )
    wall = time.perf_counter() - started
    used = resource.getrusage(resource.RUSAGE_SELF)
    print(f"{trained.ratings:,} ratings, {trained.recommender.algorithm}: {trained.folder}")
    for name, (phase_wall, phase_cpu) in trained.phases.seconds.items():
        print(f"  {name:<14} {phase_wall:8.1f} s wall {phase_cpu:8.1f} s CPU")
    print(
        f"whole command {wall:.1f} s wall, {used.ru_utime + used.ru_stime:.1f} s CPU; peak RSS "
        f"{used.ru_maxrss / 1024**2:.2f} GB; {os.cpu_count()} cores, load average {load:.1f} "
        f"at start, {os.getloadavg()[0]:.1f} at end"
    )


def latest(settings: Settings) -> Fit:
    """A fit that loads the latest artifact of ``settings``' models folder (read first, since
    the run publishes a new one there)."""
    folder = settings.resolved_models_dir

    def loaded(
        frame: pd.DataFrame, config: ServedConfig, *, seed: int, catalog_movie_ids: np.ndarray
    ) -> Recommender:
        return Recommender.load(folder, catalog_movie_ids=catalog_movie_ids)

    return loaded


if __name__ == "__main__":
    main()
