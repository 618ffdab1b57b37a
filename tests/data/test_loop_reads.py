"""``data.db.LoopReads``: a point read on a worker's event loop that never blocks it. On SQLite
it never waits and never runs long (answered, or ``UNANSWERED`` at once) and leaves its pooled
connection as it found it; on PostgreSQL it is sent on the loop's own psycopg connections, only on
the loop ``open`` bound it to, and any trouble there (every connection busy, a lost connection, a
slow read) answers ``UNANSWERED`` for a thread to read instead."""

from __future__ import annotations

import asyncio
import socket
import sqlite3
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import TypeVar

import pytest
from sqlalchemy import Engine, event

from data import db
from data.db import (
    BUSY_TIMEOUT_MS,
    LOOP_APPLICATION_NAME,
    LOOP_CONNECTIONS,
    LOOP_READ_STEPS,
    UNANSWERED,
    LoopReads,
    PointRead,
    Row,
    make_engine,
    sqlite_path,
)
from data.ratings import rated_movie_ids_packed, set_rating, user_rated_movie_ids
from tests.data.rows import seeded_store

T = TypeVar("T")
# Counts far past LOOP_READ_STEPS virtual-machine steps.
LONG = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100000) "
LONG += "SELECT count(*) FROM n"
LOCK = 7_070_707  # an advisory lock number no other test takes


@pytest.fixture
def store(url: str) -> Iterator[Engine]:
    engine = seeded_store(url, range(1, 3), range(1, 3))
    yield engine
    engine.dispose()


def _first(row: Row | None) -> object:
    return None if row is None else row[0]


def same(statement: str) -> PointRead[object]:
    """A point read of ``statement`` on either dialect, answering its first value."""
    return PointRead({"sqlite": statement, "postgresql": statement}, {}, _first)


USERNAME = PointRead(
    {
        "sqlite": "SELECT username FROM users WHERE id = :id",
        "postgresql": "SELECT username FROM users WHERE id = %(id)s",
    },
    {"id": 1},
    _first,
)


def on_loop(reads: LoopReads, body: Callable[[], Awaitable[T]]) -> T:
    """``body`` on a new event loop, with ``reads`` opened on it for the time it runs."""

    async def opened() -> T:
        await reads.open()
        try:
            return await body()
        finally:
            await reads.close()

    return asyncio.run(opened())


def read(reads: LoopReads, point: PointRead[object]) -> object:
    return on_loop(reads, lambda: reads.read(point))


def postgresql_only(store: Engine) -> None:
    if store.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's connections on the loop")


def test_a_point_read_is_answered_on_the_loop_and_seen_by_the_engine(store: Engine) -> None:
    statements: list[str] = []

    def record(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        statements.append(statement)

    event.listen(store, "before_cursor_execute", record)
    assert read(LoopReads(store), USERNAME) == "user1"
    # The engine's listeners (metrics, statement counts) see the read, on either dialect.
    assert statements == [USERNAME.statements[store.dialect.name]]
    with store.connect() as conn:  # the same read through SQLAlchemy, as a thread makes it
        assert USERNAME(conn) == "user1"


def test_a_read_without_a_statement_for_the_store_is_unanswered(store: Engine) -> None:
    """``rated_movie_ids_packed`` is one row on PostgreSQL only: SQLite reads its rows in a
    thread, with no attempt on the loop."""
    with store.begin() as conn:
        set_rating(conn, 1, 2, 4.0, 200)
        set_rating(conn, 1, 1, 3.5, 100)
    with store.connect() as conn:
        expected = user_rated_movie_ids(conn, 1)
    assert expected == [1, 2]
    on_postgresql = store.dialect.name == "postgresql"
    found = read(LoopReads(store), rated_movie_ids_packed(1))
    assert found == (expected if on_postgresql else UNANSWERED)
    none_rated = read(LoopReads(store), rated_movie_ids_packed(2))
    assert none_rated == ([] if on_postgresql else UNANSWERED)


def test_postgresql_reads_only_on_the_loop_it_was_opened_on(store: Engine) -> None:
    postgresql_only(store)
    reads = LoopReads(store)

    async def unopened() -> object:
        return await reads.read(USERNAME)

    assert asyncio.run(unopened()) is UNANSWERED  # before open: a thread's job

    async def here_and_elsewhere() -> tuple[object, object]:
        here = await reads.read(USERNAME)
        elsewhere = await asyncio.to_thread(asyncio.run, unopened())  # another loop
        return here, elsewhere

    assert on_loop(reads, here_and_elsewhere) == ("user1", UNANSWERED)
    assert asyncio.run(unopened()) is UNANSWERED  # closed: a thread's job again


def _loop_connections(store: Engine) -> int:
    with store.connect() as conn:
        conn.exec_driver_sql("SELECT pg_stat_clear_snapshot()")
        found = conn.exec_driver_sql(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = %(name)s",
            {"name": LOOP_APPLICATION_NAME},
        ).scalar()
    return int(found or 0)


def test_postgresql_opens_its_connections_before_the_first_read(store: Engine) -> None:
    """Opened at start-up, not by the first requests of a worker busy with its cold start."""
    postgresql_only(store)
    reads = LoopReads(store)
    before = _loop_connections(store)

    async def opened() -> int:
        return await asyncio.to_thread(_loop_connections, store)

    assert on_loop(reads, opened) == before + LOOP_CONNECTIONS
    while _loop_connections(store) != before:  # closed: their server processes end
        time.sleep(0.01)


def _waiting_for_lock(store: Engine) -> int:
    with store.connect() as conn:
        conn.exec_driver_sql("SELECT pg_stat_clear_snapshot()")
        found = conn.exec_driver_sql(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = %(lock)s "
            "AND NOT granted",
            {"lock": LOCK},
        ).scalar()
    return int(found or 0)


def test_postgresql_reads_stay_with_the_first_loop_opened(store: Engine) -> None:
    """Two apps on one set of services, each opening and closing it on its own loop: the
    connections stay with the first loop, and the second neither takes nor closes them."""
    postgresql_only(store)
    reads = LoopReads(store)

    async def second_app() -> object:
        await reads.open()
        answer = await reads.read(USERNAME)
        await reads.close()
        return answer

    async def first_app() -> tuple[object, object, object]:
        here = await reads.read(USERNAME)
        there = await asyncio.to_thread(asyncio.run, second_app())
        return here, there, await reads.read(USERNAME)

    assert on_loop(reads, first_app) == ("user1", UNANSWERED, "user1")


def test_postgresql_reads_beyond_the_loops_connections_are_unanswered(
    store: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With every connection of the loop busy, a read goes to a thread rather than wait on the
    loop for one. The busy reads wait for an advisory lock another connection holds."""
    postgresql_only(store)
    monkeypatch.setattr(db, "LOOP_READ_SECONDS", 120.0)  # held as long as the test needs
    reads = LoopReads(store)
    held = same(f"SELECT 'held', pg_advisory_xact_lock_shared({LOCK})")

    async def crowded() -> tuple[list[object], object]:
        busy = [asyncio.ensure_future(reads.read(held)) for _ in range(LOOP_CONNECTIONS)]
        with store.connect() as holder:
            holder.exec_driver_sql(f"SELECT pg_advisory_lock({LOCK})")
            try:
                await asyncio.sleep(0)  # the reads start: each connects, then waits for the lock
                while await asyncio.to_thread(_waiting_for_lock, store) < LOOP_CONNECTIONS:
                    await asyncio.sleep(0.01)
                extra = await reads.read(USERNAME)
            finally:
                holder.exec_driver_sql(f"SELECT pg_advisory_unlock({LOCK})")
        return await asyncio.gather(*busy), extra

    answers, extra = on_loop(reads, crowded)
    assert extra is UNANSWERED
    assert answers == ["held"] * LOOP_CONNECTIONS
    assert read(reads, USERNAME) == "user1"  # a connection is free again


def test_postgresql_a_lost_connection_is_unanswered_and_replaced(
    store: Engine, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    postgresql_only(store)
    monkeypatch.setattr(db, "LOOP_PAUSE_SECONDS", 0.0)  # the next read may try the loop again
    reads = LoopReads(store)
    pid = same("SELECT pg_backend_pid()")

    def terminate(backend: object) -> None:
        with store.connect() as conn:
            conn.exec_driver_sql("SELECT pg_terminate_backend(%(pid)s)", {"pid": backend})
            while True:
                conn.exec_driver_sql("SELECT pg_stat_clear_snapshot()")
                left = conn.exec_driver_sql(
                    "SELECT count(*) FROM pg_stat_activity WHERE pid = %(pid)s", {"pid": backend}
                ).scalar()
                if not left:
                    return
                time.sleep(0.01)

    async def through_a_restart() -> tuple[object, object, object]:
        backend = await reads.read(pid)
        await asyncio.to_thread(terminate, backend)  # as a server restart would
        lost = await reads.read(USERNAME)
        again = await reads.read(pid)
        return backend, lost, again

    backend, lost, again = on_loop(reads, through_a_restart)
    assert lost is UNANSWERED
    assert isinstance(again, int)
    assert again != backend  # another connection
    assert "a read on the event loop failed; reading in threads for 0 s" in caplog.text


def test_postgresql_reads_pause_after_a_failure(
    store: Engine, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A server that does not answer costs each request no attempt to connect, and logs one
    line. Here a socket that listens and never answers: the first read gives up after
    ``LOOP_READ_SECONDS``, the second is not tried."""
    postgresql_only(store)
    monkeypatch.setattr(db, "LOOP_READ_SECONDS", 0.2)
    monkeypatch.setattr(db, "LOOP_PAUSE_SECONDS", 3600.0)
    with socket.create_server(("127.0.0.1", 0)) as silent:
        address = store.url.set(host="127.0.0.1", port=silent.getsockname()[1])
        unreachable = make_engine(address.render_as_string(hide_password=False))
        reads = LoopReads(unreachable)

        async def twice() -> tuple[object, object]:
            return await reads.read(USERNAME), await reads.read(USERNAME)

        assert on_loop(reads, twice) == (UNANSWERED, UNANSWERED)
        unreachable.dispose()
    failures = [r for r in caplog.records if "a read on the event loop failed" in r.message]
    assert len(failures) == 1
    assert "reading in threads for 3600 s" in failures[0].message


def test_postgresql_a_slow_read_is_given_up_and_unanswered(
    store: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    postgresql_only(store)
    monkeypatch.setattr(db, "LOOP_READ_SECONDS", 0.2)
    monkeypatch.setattr(db, "LOOP_PAUSE_SECONDS", 0.0)
    reads = LoopReads(store)

    async def slow_then_quick() -> tuple[object, object]:
        slow = await reads.read(same("SELECT pg_sleep(60)"))
        return slow, await reads.read(USERNAME)

    assert on_loop(reads, slow_then_quick) == (UNANSWERED, "user1")


def test_a_read_does_not_wait_and_leaves_the_connection_as_it_was(store: Engine) -> None:
    if store.dialect.name != "sqlite":
        pytest.skip("SQLite's busy timeout")
    assert read(LoopReads(store), same("PRAGMA busy_timeout")) == 0
    with store.connect() as conn:  # the pool's one connection, back with its settings
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == BUSY_TIMEOUT_MS
        assert conn.exec_driver_sql(LONG).scalar() == 100000  # no step bound left on it


def test_no_idle_connection_is_unanswered(store: Engine) -> None:
    if store.dialect.name != "sqlite":
        pytest.skip("SQLite's pool")
    store.dispose()  # an empty pool: a read would have to open a connection
    reads = LoopReads(store)
    assert read(reads, USERNAME) is UNANSWERED
    with store.connect() as conn:  # now one sits idle in the pool
        assert USERNAME(conn) == "user1"
    assert read(reads, USERNAME) == "user1"


def test_a_long_read_is_stopped_and_unanswered(store: Engine) -> None:
    if store.dialect.name != "sqlite":
        pytest.skip("SQLite's step bound")
    reads = LoopReads(store)
    assert read(reads, same(LONG)) is UNANSWERED
    assert LOOP_READ_STEPS < 100000
    assert read(reads, USERNAME) == "user1"  # the next read is answered as before
    with store.connect() as conn:
        assert conn.exec_driver_sql(LONG).scalar() == 100000


def test_a_short_read_run_many_times_is_always_answered(store: Engine) -> None:
    """SQLite counts a prepared statement's steps across all its runs: a bound checked against
    that count stopped about one run in a hundred of a short look-up (the statement cache
    reuses it), however short. Each read is bounded by its own steps."""
    reads = LoopReads(store)

    async def many() -> list[object]:
        return [await reads.read(USERNAME) for _ in range(3 * LOOP_READ_STEPS)]

    assert on_loop(reads, many) == ["user1"] * (3 * LOOP_READ_STEPS)


def test_a_store_held_by_another_connection_is_unanswered(store: Engine) -> None:
    """Another process holding the store exclusively: no read is tried without an idle pooled
    connection (opening one runs pragmas that would wait up to 30 s on the event loop)."""
    if store.dialect.name != "sqlite":
        pytest.skip("SQLite's locks")
    path = sqlite_path(str(store.url))
    assert path is not None
    store.dispose()  # no pooled connection open: the holder takes the file alone
    holder = sqlite3.connect(path, isolation_level=None)
    try:
        holder.execute("PRAGMA locking_mode = EXCLUSIVE")
        holder.execute("BEGIN EXCLUSIVE")
        holder.execute("UPDATE users SET username = username WHERE id = 1")
        assert read(LoopReads(store), USERNAME) is UNANSWERED
    finally:
        holder.rollback()
        holder.close()
    with store.connect() as conn:  # released: a pooled connection idle again
        assert USERNAME(conn) == "user1"
    assert read(LoopReads(store), USERNAME) == "user1"
