"""Fit time and peak memory of the served models on a MovieLens folder of any size.

What ``movierec train`` does after reading the store (``fit_recommender`` with the served
configuration, then the artifact write), on ``ratings.csv`` read straight from a MovieLens
folder, so the ML-25M shape can be measured without first loading 25 M ratings into a store:

    .venv/bin/python bench/synth_movielens.py --out /tmp/ml25m-synth   # once, ~5 min
    .venv/bin/python bench/train_scale.py /tmp/ml25m-synth

``--phase neighbours`` fits only the neighbour lists served above the size threshold (the
bounded neighbour fit), with ``--cap`` overriding the served per-user cap, to measure that phase
alone at several caps. ``--phase temporal`` fits only the time-aware factor model of the rating
blend served below the threshold, ``--epochs`` sweeps of it (default: the served count), to
measure what that model would cost at this size.

Peak memory is the process's maximum resident set size (``ru_maxrss``, what ``/usr/bin/time
-v`` reports as "Maximum resident set size"), so it includes the CSV read. The figures and
the machine's load average go into the README's "Scale" section; on a shared machine CPU
seconds are the steadier figure (wall time is CPU time over the share of the cores we got).
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

from recommender.artifact import catalog_fingerprint
from recommender.dataset import TrainingData
from recommender.models.temporal import TemporalFactors, TemporalParams
from recommender.serving import Recommender
from recommender.training import ServedConfig, fit_recommender, scale_neighbours


def read_ratings(folder: Path, rows: int | None = None) -> pd.DataFrame:
    """``ratings.csv`` of the folder, or its first ``rows`` ratings."""
    frame = pd.read_csv(
        folder / "ratings.csv",
        nrows=rows,
        dtype={
            "userId": np.int64,
            "movieId": np.int64,
            "rating": np.float32,
            "timestamp": np.int64,
        },
    )
    return frame.rename(columns={"userId": "user_id", "movieId": "movie_id"})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="MovieLens folder with ratings.csv")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--phase", choices=("served", "neighbours", "temporal"), default="served")
    parser.add_argument("--cap", type=int, help="neighbours phase: ratings read per user")
    parser.add_argument("--epochs", type=int, help="temporal phase: ALS sweeps")
    parser.add_argument("--rows", type=int, help="read only the first ROWS ratings")
    args = parser.parse_args()
    load = os.getloadavg()[0]
    started = time.perf_counter()
    frame = read_ratings(args.folder, args.rows)
    read = time.perf_counter() - started
    config = ServedConfig()
    if args.cap is not None:
        config = replace(config, scale_neighbour_cap=args.cap)
    if args.phase == "neighbours":
        fit_neighbours(frame, config, args.seed, read, load)
        return
    if args.phase == "temporal":
        fit_temporal(frame, args.epochs, args.seed, read, load)
        return
    recommender = fit_recommender(frame, config, seed=args.seed)
    fitted = time.perf_counter() - started - read
    with tempfile.TemporaryDirectory() as models:
        catalog = recommender.movie_ids
        recommender.save(Path(models), {"catalog_fingerprint": catalog_fingerprint(catalog)})
        elapsed = time.perf_counter() - started
        # What each server worker does when it switches to this artifact.
        loading = time.perf_counter()
        Recommender.load(Path(models), catalog_movie_ids=catalog)
        loaded = time.perf_counter() - loading
    print(
        f"{len(frame):,} ratings, {frame['user_id'].nunique():,} users, "
        f"{len(recommender.movie_ids):,} movies; algorithm {recommender.algorithm}\n"
        f"read {read:.1f} s, fit {fitted:.1f} s, total {elapsed:.1f} s wall, {usage(load)}; "
        f"a worker loads the artifact in {loaded:.2f} s"
    )


def fit_neighbours(
    frame: pd.DataFrame, config: ServedConfig, seed: int, read: float, load: float
) -> None:
    started = time.perf_counter()
    data = TrainingData.from_frame(frame)
    model = replace(scale_neighbours(config), seed=seed).fit(data)
    fitted = time.perf_counter() - started
    listed = int((model.neighbour_sim[:, 0] > 0).sum())
    print(
        f"{len(frame):,} ratings; neighbour lists at most {config.scale_neighbour_cap} ratings "
        f"per user: {listed:,} of {model.n_movies:,} movies listed\n"
        f"read {read:.1f} s, fit {fitted:.1f} s wall, {usage(load)}"
    )


def fit_temporal(
    frame: pd.DataFrame, epochs: int | None, seed: int, read: float, load: float
) -> None:
    params = TemporalParams() if epochs is None else replace(TemporalParams(), epochs=epochs)
    started = time.perf_counter()
    cpu = time.process_time()
    TemporalFactors(params, seed=seed).fit(TrainingData.from_frame(frame))
    print(
        f"{len(frame):,} ratings; time-aware factors, {params.factors} factors, "
        f"{params.epochs} sweeps\nread {read:.1f} s, fit {time.perf_counter() - started:.1f} s "
        f"wall, {time.process_time() - cpu:.1f} s CPU in the fit, {usage(load)}"
    )


def usage(load: float) -> str:
    """CPU seconds, peak RSS and load average: the figures beside wall time on a busy box."""
    used = resource.getrusage(resource.RUSAGE_SELF)
    return (
        f"{used.ru_utime + used.ru_stime:.1f} s CPU; peak RSS {used.ru_maxrss / 1024**2:.2f} GB; "
        f"{os.cpu_count()} cores, load average {load:.1f} at start, "
        f"{os.getloadavg()[0]:.1f} at end"
    )


if __name__ == "__main__":
    main()
