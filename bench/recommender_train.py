"""Fit time and peak memory of ``movierec train`` on the configured store.

Run: ``MOVIEREC_DATA_DIR=... .venv/bin/python bench/recommender_train.py`` after ``movierec etl``.
Peak memory is the process's maximum resident set size, so it includes the store read.

Measured 2026-11-25 (2 cores, no other job; ml-latest-small store, 100,836 ratings): fit
12.2 s, 14.0 s wall including the store read and the artifact write, peak RSS 519 MB (busy with
other jobs, load ~5: 24.9 s wall, 536 MB). The fit is two rounds (validation carve, then all
ratings) of surprise SVD plus the neighbour similarities, computed in dense blocks of ~8M
cells; it was 1.2 s / 187 MB for the SVD alone. Neighbour similarity cost grows with the sum
over users of (ratings per user)^2, so at ML-25M scale expect a long fit (not measured here);
serving memory stays linear.
"""

from __future__ import annotations

import logging
import resource
import time

from movierec.commands.training import run_train
from movierec.settings import Settings


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    started = time.perf_counter()
    code = run_train(Settings(), seed=42)
    elapsed = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"movierec train: exit {code}, {elapsed:.2f} s wall, peak RSS {peak_mb:.0f} MB")


if __name__ == "__main__":
    main()
