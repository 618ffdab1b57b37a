"""CPU per call of the request path's store reads, on SQLite and on PostgreSQL, in process.

    MOVIEREC_DATA_DIR=<store> .venv/bin/python bench/store_reads.py \\
        --postgres postgresql+psycopg://...   # the same data loaded there

For user 1: the read of a recommendation (the packed ratings and the watchlist in one
statement, ``ranking_inputs``, through ``reader`` as the services do) and the legacy
rated-movies list, whose 232 rows are taken with ``.all()`` (one ``fetchall``) and, for
comparison, by iterating the result (``fetchone`` per row, which psycopg runs in Python).
Rounds alternate the stores; each prints the CPU microseconds per call, which a busy machine
moves far less than wall time. The server's own CPU (PostgreSQL's processes) is not in the
figure: this is the worker's share of a request.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable

from sqlalchemy import Engine

from data.db import open_store, reader
from data.ratings import _RATED_MOVIES, ranking_inputs
from movierec.settings import Settings

USER = 1


def recommendation_reads(engine: Engine) -> None:
    with engine.connect() as conn:
        ranking_inputs(conn, USER)


def rated_movies(engine: Engine) -> None:
    with engine.connect() as conn:
        conn.execute(_RATED_MOVIES, {"user_id": USER}).scalars().all()


def rated_movies_iterated(engine: Engine) -> None:
    with engine.connect() as conn:
        list(conn.execute(_RATED_MOVIES, {"user_id": USER}).scalars())


def cpu_per_call(call: Callable[[Engine], None], engine: Engine, calls: int) -> float:
    for _ in range(calls // 20):  # warm: pooled connection, prepared statements
        call(engine)
    started = time.process_time()
    for _ in range(calls):
        call(engine)
    return (time.process_time() - started) / calls * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", required=True, metavar="URL")
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    stores = {
        "sqlite": reader(open_store(Settings().resolved_database_url)),
        "postgresql": reader(open_store(args.postgres)),
    }
    print(f"load average at start {os.getloadavg()[0]:.1f}")
    for number in range(1, args.rounds + 1):
        names = list(stores) if number % 2 else list(reversed(stores))
        for name in names:
            figures = ", ".join(
                f"{call.__name__} {cpu_per_call(call, stores[name], args.calls):.0f}"
                for call in (recommendation_reads, rated_movies, rated_movies_iterated)
            )
            print(f"round {number} {name:<10} CPU us per call: {figures}", flush=True)
    print(f"load average at end {os.getloadavg()[0]:.1f}")
    for engine in stores.values():
        engine.dispose()


if __name__ == "__main__":
    main()
