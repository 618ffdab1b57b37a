"""The served rating model against the previous one, split by split, as ``movierec evaluate``
scores them (same splits, same seed streams, same fits and serving path), without the rest of
the comparison: for when the full evaluation cannot run to its end on a busy machine.

Each split prints as soon as it is scored: served and previous RMSE, the paired per-user MSE
difference with its 95 % interval, what the served fit's validation carve chose, and the CPU
seconds of the two fits. The folds, 80/20 and time-based splits are
:func:`recommender.comparison.random_folds`, ``holdout`` and
:func:`recommender.evaluate.latest_rows`; the catalog is every rated movie, as ``evaluate``
with a store whose catalog is the rated movies.

Run: ``OPENBLAS_NUM_THREADS=1 nice .venv/bin/python bench/rating_splits.py [--splits
fold_1,fold_2,...] [ratings.csv]`` (default every split of ml-latest-small, folds first).
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np
from recommender_latency import DEFAULT_CSV, load_csv

from recommender.comparison import (
    SERVED,
    SplitScores,
    holdout,
    paired_user_mse,
    previous_rating,
    random_folds,
    served_parts,
    served_predictions,
)
from recommender.dataset import split_rows
from recommender.evaluate import latest_rows, rmse_mae
from recommender.training import ServedConfig, fit_recommender

FOLDS = 5


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("csv", type=Path, nargs="?", default=DEFAULT_CSV)
    parser.add_argument("--seed", type=int, default=42)
    names = [f"fold_{i + 1}" for i in range(FOLDS)] + ["time_based", "holdout_80_20"]
    parser.add_argument("--splits", default=",".join(names))
    args = parser.parse_args()
    frame = load_csv(args.csv).reset_index(drop=True)
    catalog = np.unique(frame["movie_id"].to_numpy(np.int64))
    splits = {
        "holdout_80_20": holdout(len(frame), args.seed),
        "time_based": latest_rows(frame),
        **{
            f"fold_{i + 1}": rows
            for i, rows in enumerate(random_folds(len(frame), FOLDS, args.seed))
        },
    }
    folds: list[SplitScores] = []
    for name in args.splits.split(","):
        train, test = split_rows(frame, splits[name])
        cpu = time.process_time()
        served = fit_recommender(train, ServedConfig(), seed=args.seed, catalog_movie_ids=catalog)
        predicted = served_predictions(served, train, test)[SERVED]
        served_cpu = time.process_time() - cpu
        previous, (previous_rmse, _, _) = previous_rating(train, test, args.seed, catalog)
        scores = SplitScores(
            {},
            served_parts(served)[1].validation,
            test["user_id"].to_numpy(),
            test["rating"].to_numpy(np.float64),
            predicted,
            previous,
        )
        if name.startswith("fold_"):
            folds.append(scores)
        chosen = {k: v for k, v in scores.validation["chosen"].items() if k != "weights"}
        print(
            f"{name}: served RMSE {rmse_mae(predicted, test['rating'])[0]:.4f}, previous "
            f"{previous_rmse:.4f}; paired per-user MSE {json.dumps(scores.paired())}; carve "
            f"chose {json.dumps(chosen)}; CPU served {served_cpu:.0f} s, both "
            f"{time.process_time() - cpu:.0f} s; load average {os.getloadavg()[0]:.1f}",
            flush=True,
        )
    if len(folds) > 1:
        print(
            f"{len(folds)} folds together, paired per-user MSE {json.dumps(paired_user_mse(folds))}"
        )


if __name__ == "__main__":
    main()
