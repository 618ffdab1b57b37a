"""Top-10 and predict latency per user: the served NumPy path against the original's loop.

The original asked surprise's ``predict`` for every unrated movie and sorted the estimates; the
served path folds the user in and ranks the whole catalog with one matrix-vector product and
``argpartition``. Both run on the same data in the same process.

Run: ``OPENBLAS_NUM_THREADS=1 .venv/bin/python bench/recommender_latency.py [ratings.csv]
[--rounds N] [--heavy-only]`` (default: the shared ml-latest-small, 7 rounds; ``--heavy-only``
stops after the heavy user's served/previous comparison). Targets: served top-10 <= 1 ms p50
(the original takes about 65 ms); the heavy user's predict <= 2 ms p50.

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
After the fold-in rework (bias and drift once per day, one syrk of the rated movies' factors,
no per-call page faults; 2026-12-01, --heavy-only, only at load 8-26 with wall times queued
for a core), three runs: served / previous wall p50 0.71 (rounds 0.55-1.56), 0.94 (0.54-1.06)
and 0.87 (0.60-1.65); thread CPU p50 0.83 (0.70-1.28), 0.90 (0.85-0.91) and 0.84 (0.75-0.92);
served CPU p50 2.68, 3.38 and 3.25 ms, previous 3.20, 3.77 and 3.67 ms. A fourth at load 8.1:
wall 0.76 (0.32-1.21), CPU 0.86 (0.76-0.96); served CPU 2.87 ms, previous 3.43 ms. Before it:
served / previous 1.18 and 1.24 at load 3.4 and 1.0 (served p50 2.34 and 2.47 ms).
Per-call trims (2026-12-01: the movie-id table, one reading of the neighbour lists for both
neighbour terms, the fold-in without NumPy's and scipy's per-call Python layers; predictions
bit-identical), --heavy-only, each run started beside a run of main's code: served CPU p50
1.595 ms (rounds 1.261-2.321) against 1.789 ms (1.597-1.832), load 9.4-10.4; 1.988 ms
(1.552-2.107) against 2.278 ms (1.428-2.513), load 7.1-7.2. Served / previous CPU 0.771 and
0.748 against 0.777 and 0.916. Wall p50 was queueing (4.74 and 5.71 ms against 1.92 and
7.85 ms). A third run, the merged branch alone at load 4.7-4.9: served p50 1.745 ms (rounds
1.380-2.010), CPU 1.685 ms; previous 2.134 ms; served / previous 0.809 (0.594-0.999).
Quiet runs (load 1.4-2.2), merged main: served p50 1.64, 2.22 and 2.06 ms, served / previous
0.66-0.80. Then the gathers by take and the bin biases by one flat take (2026-12-01, load
1.2-1.4, three runs): served p50 1.879, 1.740 and 1.834 ms (rounds 1.279-2.348), previous
2.750, 2.825 and 2.602 ms, served / previous 0.731, 0.681 and 0.728.
Without OPENBLAS_NUM_THREADS=1 on a loaded machine, OpenBLAS threads make the 101 x 101 ridge
solve of the fold-in 50x slower (measured 0.3 ms -> 50 ms per solve): run workers single-threaded.
"""

from __future__ import annotations

import argparse
import os
import resource
import time
from pathlib import Path

import numpy as np
import pandas as pd
from timing import timed

from recommender.comparison import PREVIOUS
from recommender.models.rating import SVDParams, fit_svd
from recommender.serving import Recommender, UserRatings
from recommender.training import ServedConfig, fit_recommender

# Rounds of the heavy-user comparison between the served and the previous rating model, and
# the calls timed per model in each.
ROUNDS = 7
CALLS = 200

DEFAULT_CSV = Path(__file__).resolve().parents[2] / "shared" / "movielens" / "ratings.csv"


def load_csv(path: Path) -> pd.DataFrame:
    frame = pd.read_csv(path)
    return frame.rename(columns={"userId": "user_id", "movieId": "movie_id"})


def heavy_predict_against_previous(
    served: Recommender, previous: Recommender, heaviest: UserRatings, rounds: int
) -> None:
    """The heaviest user's predict p50, served and previous rating model, interleaved round by
    round in this process, so both see the same load; the ratio per round and its spread.

    Each call is timed twice: wall time, and the CPU time of this thread (``thread_time``),
    which leaves out the time spent waiting for a core on a shared machine (though not the
    cache misses other jobs cause), so the CPU figures move less with the load."""
    targets = heaviest.movie_ids[:10]
    wall: dict[str, list[float]] = {"served": [], "previous": []}
    cpu: dict[str, list[float]] = {"served": [], "previous": []}
    ratios, cpu_ratios = [], []
    load = os.getloadavg()[0]
    started_cpu = time.process_time()
    for _ in range(rounds):
        for name, model in (("served", served), ("previous", previous)):
            seconds, cpu_seconds = [], []
            for _ in range(CALLS):
                started, started_thread = time.perf_counter(), time.thread_time()
                model.predict(heaviest, targets)
                cpu_seconds.append(time.thread_time() - started_thread)
                seconds.append(time.perf_counter() - started)
            wall[name].append(float(np.median(seconds)) * 1e3)
            cpu[name].append(float(np.median(cpu_seconds)) * 1e3)
        ratios.append(wall["served"][-1] / wall["previous"][-1])
        cpu_ratios.append(cpu["served"][-1] / cpu["previous"][-1])

    def spread(values: list[float], unit: str = " ms") -> str:
        return f"{np.median(values):.3f}{unit} (rounds {min(values):.3f}-{max(values):.3f})"

    print(
        f"heaviest user ({len(heaviest.movie_ids)} ratings), predict 10 movies, {rounds} rounds "
        f"of {CALLS} calls each:\n"
        f"  served p50 {spread(wall['served'])}, CPU {spread(cpu['served'])}\n"
        f"  previous p50 {spread(wall['previous'])}, CPU {spread(cpu['previous'])}\n"
        f"  served / previous {spread(ratios, '')}, CPU {spread(cpu_ratios, '')}\n"
        f"  CPU {time.process_time() - started_cpu:.1f} s; load average {load:.1f} at the start, "
        f"{os.getloadavg()[0]:.1f} at the end"
    )


def main(path: Path, rounds: int, heavy_only: bool) -> None:
    frame = load_csv(path)
    recommender = fit_recommender(frame, ServedConfig(), seed=42)
    previous = fit_recommender(frame, PREVIOUS, seed=42)
    by_user = {int(u): UserRatings.from_frame(g) for u, g in frame.groupby("user_id")}
    users = list(by_user.values())
    heaviest = max(users, key=lambda u: len(u.movie_ids))
    heavy_predict_against_previous(recommender, previous, heaviest, rounds)
    if heavy_only:
        return

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
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("ratings", nargs="?", type=Path, default=DEFAULT_CSV)
    parser.add_argument("--rounds", type=int, default=ROUNDS, help="heavy-user rounds")
    parser.add_argument("--heavy-only", action="store_true", help="only the heavy-user comparison")
    args = parser.parse_args()
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    main(args.ratings, args.rounds, args.heavy_only)
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6:.2f} GB")
