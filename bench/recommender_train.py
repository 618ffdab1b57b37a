"""Fit time and peak memory of ``movierec train`` on the configured store.

Run: ``MOVIEREC_DATA_DIR=... .venv/bin/python bench/recommender_train.py`` after ``movierec etl``.
Peak memory is the process's maximum resident set size, so it includes the store read.

Measured 2026-11-25 (2 cores, ml-latest-small store, 100,837 ratings): fit 1.2 s,
2.72 s wall including the store read and the artifact write, peak RSS 187 MB.
"""

from __future__ import annotations

import logging
import resource
import time

from etl.training import run_train
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
