"""Top-10 and predict latency per user: the served NumPy path against the original's loop.

The original asked surprise's ``predict`` for every unrated movie and sorted the estimates; the
served path folds the user in and ranks the whole catalogue with one matrix-vector product and
``argpartition``. Both run on the same data in the same process.

Run: ``OPENBLAS_NUM_THREADS=1 .venv/bin/python bench/recommender_latency.py [ratings.csv]``
(default: the shared
ml-latest-small). Targets: served <= 1 ms p50 (the original takes about 65 ms).

Measured 2026-11-25 (2 cores shared with other jobs, load ~5; OPENBLAS_NUM_THREADS=1;
ml-latest-small, 610 users, 9,724 movies; served rating model = SVD fold-in + top-100 item
neighbours, blended):
    served top_n over 610 users x 5: p50 0.058 ms, p99 0.136 ms
    served top_n, user with 2698 ratings: p50 0.132 ms, p99 0.220 ms
    served predict 10 movies over 610 users: p50 0.199 ms, p99 0.896 ms
    served predict 10 movies, heaviest user: p50 1.506 ms, p99 1.669 ms
    original per-movie predict loop over 51 users: p50 27.5 ms, p99 28.7 ms
Without OPENBLAS_NUM_THREADS=1 on a loaded machine, OpenBLAS threads make the 101 x 101 ridge
solve of the fold-in 50x slower (measured 0.3 ms -> 50 ms per solve): run workers single-threaded.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from recommender.models.rating import SVDParams, fit_svd
from recommender.serving import UserRatings
from recommender.training import ServedConfig, fit_recommender

DEFAULT_CSV = Path(__file__).resolve().parents[2] / "shared" / "movielens" / "ratings.csv"


def load_csv(path: Path) -> pd.DataFrame:
    frame = pd.read_csv(path)
    return frame.rename(columns={"userId": "user_id", "movieId": "movie_id"})


def percentiles(seconds: list[float]) -> str:
    ms = np.array(seconds) * 1e3
    return f"p50 {np.percentile(ms, 50):.3f} ms, p99 {np.percentile(ms, 99):.3f} ms"


def main(path: Path) -> None:
    frame = load_csv(path)
    recommender = fit_recommender(frame, ServedConfig(), seed=42)
    by_user = {int(u): UserRatings.from_frame(g) for u, g in frame.groupby("user_id")}
    served = []
    for _ in range(5):
        for user in by_user.values():
            started = time.perf_counter()
            recommender.top_n(user, 10)
            served.append(time.perf_counter() - started)
    print(f"served top_n over {len(by_user)} users x 5: {percentiles(served)}")
    heaviest = max(by_user.values(), key=lambda u: len(u.movie_ids))
    heavy = []
    for _ in range(200):
        started = time.perf_counter()
        recommender.top_n(heaviest, 10)
        heavy.append(time.perf_counter() - started)
    print(f"served top_n, user with {len(heaviest.movie_ids)} ratings: {percentiles(heavy)}")
    # An update re-reads the user's ratings and folds them in again on the next call: the
    # fold-in (ridge solve), the neighbour term and the blend are the whole per-update cost.
    predict = []
    for user in by_user.values():
        started = time.perf_counter()
        recommender.predict(user, user.movie_ids[:10])
        predict.append(time.perf_counter() - started)
    print(f"served predict 10 movies over {len(by_user)} users: {percentiles(predict)}")
    heavy_predict = []
    for _ in range(200):
        started = time.perf_counter()
        recommender.predict(heaviest, heaviest.movie_ids[:10])
        heavy_predict.append(time.perf_counter() - started)
    print(f"served predict 10 movies, heaviest user: {percentiles(heavy_predict)}")

    algo = fit_svd(frame, SVDParams(), seed=42)
    movies = np.unique(frame["movie_id"])
    sample = list(by_user.items())[:: max(1, len(by_user) // 50)]
    loop = []
    for user_id, user in sample:
        started = time.perf_counter()
        unrated = np.setdiff1d(movies, user.movie_ids)
        estimates = [(algo.predict(user_id, int(m)).est, int(m)) for m in unrated]
        sorted(estimates, reverse=True)[:10]
        loop.append(time.perf_counter() - started)
    print(f"original per-movie predict loop over {len(sample)} users: {percentiles(loop)}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_CSV)
