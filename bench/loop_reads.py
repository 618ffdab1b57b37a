"""CPU per point read on the request path: in a worker thread against on the event loop.

The read is the warm recommendation's check (``data.ratings.ranking_version`` of user 1), made
``--reads`` times with 8 in flight (``data.db.LOOP_CONNECTIONS``), the way ``graph.legacy``
makes it: through ``graph.threads.BlockingCalls`` (a thread, SQLAlchemy's pooled engine) or through
``data.db.LoopReads`` (SQLite's connection on the loop; on PostgreSQL, psycopg's async connection
on the loop), and on PostgreSQL a third way, the one ``LoopReads`` passed over: the same read on
the loop through SQLAlchemy's async engine (``run_sync``). It alternates them block by block and
prints the process's CPU time per read (``time.process_time``: every thread; a PostgreSQL
server's own work is not in it) for each, with the loop's share of the thread's.

    .venv/bin/python bench/loop_reads.py postgresql+psycopg://user@host/db [--reads 3000]
    .venv/bin/python bench/loop_reads.py sqlite:///<data dir>/movierec.sqlite3

The store must hold user 1 (``movierec etl``).
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Awaitable, Callable

import uvloop
from api_load import load_average
from sqlalchemy.ext.asyncio import create_async_engine
from timing import median_spread

from data.db import LOOP_CONNECTIONS, UNANSWERED, LoopReads, open_store, reader
from data.ratings import ranking_version
from graph.threads import BlockingCalls

# As many in flight as the loop has connections, so that every read there is answered.
IN_FLIGHT = LOOP_CONNECTIONS


async def cpu_per_read(read: Callable[[], Awaitable[object]], reads: int) -> float:
    """Microseconds of the process's CPU per read, ``IN_FLIGHT`` at a time."""

    async def one_lane() -> None:
        for _ in range(reads // IN_FLIGHT):
            await read()

    started = time.process_time()
    await asyncio.gather(*(one_lane() for _ in range(IN_FLIGHT)))
    return (time.process_time() - started) / (reads // IN_FLIGHT * IN_FLIGHT) * 1e6


async def compare(url: str, reads: int, rounds: int) -> None:
    engine = open_store(url)
    loop_reads = LoopReads(engine)
    threads = BlockingCalls()
    await loop_reads.open()
    point = ranking_version(1)

    def in_thread() -> object:
        with reader(engine).connect() as conn:
            return point(conn)

    async def on_loop() -> object:
        answer = await loop_reads.read(point)
        if answer is UNANSWERED:
            raise SystemExit("the store did not answer on the loop; nothing to compare")
        return answer

    ways: dict[str, Callable[[], Awaitable[object]]] = {
        "thread": lambda: threads.run(in_thread),
        "loop": on_loop,
    }
    sqlalchemy_async = None
    if engine.dialect.name == "postgresql":
        sqlalchemy_async = create_async_engine(
            engine.url, isolation_level="AUTOCOMMIT", pool_size=IN_FLIGHT
        )

        async def through_sqlalchemy_async() -> object:
            async with sqlalchemy_async.connect() as conn:
                return await conn.run_sync(point)

        ways["sqlalchemy-async"] = through_sqlalchemy_async
    for read in ways.values():  # warm: connections open, statements prepared
        await cpu_per_read(read, 200)
    spent: dict[str, list[float]] = {name: [] for name in ways}
    for round_ in range(rounds):
        order = list(ways) if round_ % 2 == 0 else list(reversed(ways))
        for name in order:
            spent[name].append(await cpu_per_read(ways[name], reads))
    await loop_reads.close()
    if sqlalchemy_async is not None:
        await sqlalchemy_async.dispose()
    threads.shutdown()
    engine.dispose()
    for name, values in spent.items():
        print(
            f"{name:>16}: {median_spread(values, 1)} us CPU per read ({rounds} blocks of {reads})"
        )
    shares = [loop / thread for loop, thread in zip(spent["loop"], spent["thread"], strict=True)]
    print(
        f"loop's share of the thread's CPU: {median_spread(shares)}; load average {load_average()}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url", help="the store's SQLAlchemy URL")
    parser.add_argument("--reads", type=int, default=3000, help="reads per block")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    uvloop.run(compare(args.url, args.reads, args.rounds))


if __name__ == "__main__":
    main()
