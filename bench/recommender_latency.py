"""Top-10 and predict latency per user: the served NumPy path against the original's loop.

The original asked surprise's ``predict`` for every unrated movie and sorted the estimates; the
served path folds the user in and ranks the whole catalog with one matrix-vector product and
``argpartition``. Both run on the same data in the same process.

Run: ``OPENBLAS_NUM_THREADS=1 .venv/bin/python bench/recommender_latency.py [ratings.csv]``
(default: the shared
ml-latest-small). Targets: served <= 1 ms p50 (the original takes about 65 ms).

Measured 2026-11-25 (2 cores shared with other jobs, load ~5; OPENBLAS_NUM_THREADS=1;
ml-latest-small, 610 users, 9,724 movies; rating model then = SVD fold-in + top-100 item
neighbours, blended):
    served top_n over 610 users x 5: p50 0.058 ms, p99 0.136 ms
    served top_n, user with 2698 ratings: p50 0.132 ms, p99 0.220 ms
    served predict 10 movies over 610 users: p50 0.199 ms, p99 0.896 ms
    served predict 10 movies, heaviest user: p50 1.506 ms, p99 1.669 ms
    original per-movie predict loop over 51 users: p50 27.5 ms, p99 28.7 ms
Similar movies (rerun 2026-11-25 after similar() moved to the stored neighbour lists, other
figures within noise of the above): a movie with >= 10 neighbours is served from its list, the
others (3,548 of 9,724 trained movies, mostly rated once: no neighbours) by factor cosine:
    similar 10, 6176 movies served by the neighbour list: p50 0.006 ms, p99 0.009 ms
    similar 10, 3548 movies served by the cosine fill: p50 0.050 ms, p99 0.213 ms
Time-aware rating model (2026-12-01, 2 cores at load 18, so absolute times are 5x the idle
ones; the ratio is the figure): the heaviest user's predict, served against the previous
rating model (surprise SVD fold-in + top-100 neighbours) in the same process, 7 interleaved
rounds of 200 calls: served p50 7.308 ms (rounds 6.767-11.678), previous 6.568 ms
(6.487-7.048), served / previous 1.11 (rounds 1.04-1.76); a second run at load 20.1: served
7.061 ms (4.374-10.762), previous 6.667 ms (3.338-7.304), ratio 1.07 (0.91-1.93); the previous
measured 1.3-1.4 ms p50 on a quieter machine.
Without OPENBLAS_NUM_THREADS=1 on a loaded machine, OpenBLAS threads make the 101 x 101 ridge
solve of the fold-in 50x slower (measured 0.3 ms -> 50 ms per solve): run workers single-threaded.
"""

from __future__ import annotations

import os
import resource
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from timing import timed

from recommender.comparison import PREVIOUS
from recommender.models.rating import SVDParams, fit_svd
from recommender.serving import Recommender, UserRatings
from recommender.training import ServedConfig, fit_recommender

# Rounds of the heavy-user comparison between the served and the previous rating model.
ROUNDS = 7

DEFAULT_CSV = Path(__file__).resolve().parents[2] / "shared" / "movielens" / "ratings.csv"


def load_csv(path: Path) -> pd.DataFrame:
    frame = pd.read_csv(path)
    return frame.rename(columns={"userId": "user_id", "movieId": "movie_id"})


def heavy_predict_against_previous(
    served: Recommender, previous: Recommender, heaviest: UserRatings
) -> None:
    """The heaviest user's predict p50, served and previous rating model, interleaved round by
    round in this process, so both see the same load; the ratio per round and its spread."""
    targets = heaviest.movie_ids[:10]
    ratios, p50s = [], {"served": [], "previous": []}
    cpu = time.process_time()
    for _ in range(ROUNDS):
        for name, model in (("served", served), ("previous", previous)):
            seconds = []
            for _ in range(200):
                started = time.perf_counter()
                model.predict(heaviest, targets)
                seconds.append(time.perf_counter() - started)
            p50s[name].append(float(np.median(seconds)) * 1e3)
        ratios.append(p50s["served"][-1] / p50s["previous"][-1])
    print(
        f"heaviest user ({len(heaviest.movie_ids)} ratings), predict 10 movies, {ROUNDS} rounds "
        f"of 200 calls each: served p50 {np.median(p50s['served']):.3f} ms "
        f"(rounds {min(p50s['served']):.3f}-{max(p50s['served']):.3f}), previous p50 "
        f"{np.median(p50s['previous']):.3f} ms ({min(p50s['previous']):.3f}-"
        f"{max(p50s['previous']):.3f}); served / previous {np.median(ratios):.2f} "
        f"(rounds {min(ratios):.2f}-{max(ratios):.2f}); CPU {time.process_time() - cpu:.1f} s; "
        f"load average {os.getloadavg()[0]:.1f}"
    )


def main(path: Path) -> None:
    frame = load_csv(path)
    recommender = fit_recommender(frame, ServedConfig(), seed=42)
    previous = fit_recommender(frame, PREVIOUS, seed=42)
    by_user = {int(u): UserRatings.from_frame(g) for u, g in frame.groupby("user_id")}
    users = list(by_user.values())
    heaviest = max(users, key=lambda u: len(u.movie_ids))
    heavy_predict_against_previous(recommender, previous, heaviest)

    def top_n(user: UserRatings) -> object:
        return recommender.top_n(user, 10)

    def predict(user: UserRatings) -> object:
        # An update re-reads the user's ratings and folds them in again on the next call: the
        # fold-in (ridge solve), the neighbour term and the blend are the whole per-update cost.
        return recommender.predict(user, user.movie_ids[:10])

    print(f"served top_n over {len(users)} users x 5: {timed(top_n, users * 5)}")
    print(
        f"served top_n, user with {len(heaviest.movie_ids)} ratings: "
        f"{timed(top_n, [heaviest] * 200)}"
    )
    print(f"served predict 10 movies over {len(users)} users: {timed(predict, users)}")
    print(f"served predict 10 movies, heaviest user: {timed(predict, [heaviest] * 200)}")
    trained = recommender.movie_ids[recommender.rating.known]
    index = recommender.rating.neighbours.neighbour_index[recommender.rating.known]
    listed = (index < len(recommender.movie_ids)).sum(axis=1) >= 10
    for label, movies in (("neighbour list", trained[listed]), ("cosine fill", trained[~listed])):
        print(
            f"similar 10, {len(movies)} movies served by the {label}: "
            f"{timed(recommender.similar, movies.tolist())}"
        )

    algo = fit_svd(frame, SVDParams(), seed=42)
    movies = np.unique(frame["movie_id"])

    def original(item: tuple[int, UserRatings]) -> object:
        user_id, user = item
        unrated = np.setdiff1d(movies, user.movie_ids)
        estimates = [(algo.predict(user_id, int(m)).est, int(m)) for m in unrated]
        return sorted(estimates, reverse=True)[:10]

    sample = list(by_user.items())[:: max(1, len(by_user) // 50)]
    print(f"original per-movie predict loop over {len(sample)} users: {timed(original, sample)}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_CSV)
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6:.2f} GB")
