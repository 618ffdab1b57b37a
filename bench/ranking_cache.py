"""CPU per recommendation in process: a ranking-cache hit against a miss, no HTTP around it.

    MOVIEREC_DATA_DIR=<store> OPENBLAS_NUM_THREADS=1 .venv/bin/python bench/ranking_cache.py
    ... bench/ranking_cache.py --users 1 414 --calls 2000 --rounds 3

For each user, ``Recommendations.for_user(user, 10)`` (what ``GET /user/<id>/recommendations``
and ``viewer { recommendations }`` call) on the served store and model, built as a worker builds
them: once with the default cache, warmed so every call is a hit (one row read, the user's
version of their inputs, and a slice), once with ``recommendation_cache_entries=0`` so every
call ranks anew (the read, the model's product over every movie, a 500-deep selection). Rounds
alternate the two; CPU seconds per call (``time.process_time``: OPENBLAS_NUM_THREADS=1 keeps
BLAS threads spinning out of it), which a busy machine moves far less than wall time.
"""

from __future__ import annotations

import argparse
import os
import time
from dataclasses import replace

from graph.services.bundle import Services, build_services
from graph.services.ranking_cache import DEFAULT_ENTRIES
from movierec.bootstrap import app_config
from movierec.settings import Settings


def cpu_per_call(services: Services, user_id: int, calls: int) -> float:
    recommendations = services.recommendations
    for _ in range(max(calls // 20, 1)):  # warm: pooled connection, prepared statement, cache
        recommendations.for_user(user_id, 10)
    started = time.process_time()
    for _ in range(calls):
        recommendations.for_user(user_id, 10)
    return (time.process_time() - started) / calls * 1e6


def load_average() -> str:
    return " ".join(f"{value:.1f}" for value in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, nargs="+", default=[1, 414])
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    config = app_config(Settings())
    built = {
        "hit": build_services(replace(config, recommendation_cache_entries=DEFAULT_ENTRIES)),
        "miss": build_services(replace(config, recommendation_cache_entries=0)),
    }
    model = built["hit"].recommendations.recommender.algorithm
    print(f"model {model}; load average at start: {load_average()}")
    for number in range(args.rounds):
        for user_id in args.users:
            costs = {
                kind: cpu_per_call(services, user_id, args.calls)
                for kind, services in built.items()
            }
            print(
                f"round {number + 1}: user {user_id}: hit {costs['hit']:.0f} us, "
                f"miss {costs['miss']:.0f} us of CPU per call",
                flush=True,
            )
    print(f"load average at end: {load_average()}")
    for services in built.values():
        services.engine.dispose()


if __name__ == "__main__":
    main()
