"""``data.db.LoopReads``: a point read on the calling thread that never waits and never runs
long on SQLite (answered, or ``UNANSWERED`` at once), leaves its pooled connection as it found
it, and is never made on PostgreSQL."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

import pytest
from sqlalchemy import Connection, Engine

from data.db import BUSY_TIMEOUT_MS, LOOP_READ_STEPS, UNANSWERED, LoopReads, sqlite_path
from tests.data.rows import seeded_store

# Counts far past LOOP_READ_STEPS virtual-machine steps.
LONG = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100000) "
LONG += "SELECT count(*) FROM n"


@pytest.fixture
def store(url: str) -> Iterator[Engine]:
    engine = seeded_store(url, range(1, 3), range(1, 3))
    yield engine
    engine.dispose()


def _username(conn: Connection) -> object:
    return conn.exec_driver_sql("SELECT username FROM users WHERE id = 1").scalar()


def test_a_point_read_is_answered_on_sqlite_only(store: Engine) -> None:
    reads = LoopReads(store)
    answer = reads.read(_username)
    if store.dialect.name == "sqlite":
        assert answer == "user1"
    else:  # a round trip to another process: always a thread's job
        assert answer is UNANSWERED


def test_a_read_does_not_wait_and_leaves_the_connection_as_it_was(store: Engine) -> None:
    if store.dialect.name != "sqlite":
        pytest.skip("SQLite's busy timeout")

    def busy_timeout(conn: Connection) -> object:
        return conn.exec_driver_sql("PRAGMA busy_timeout").scalar()

    assert LoopReads(store).read(busy_timeout) == 0
    with store.connect() as conn:  # the pool's one connection, back with its settings
        assert busy_timeout(conn) == BUSY_TIMEOUT_MS
        assert conn.exec_driver_sql(LONG).scalar() == 100000  # no step bound left on it


def test_no_idle_connection_is_unanswered(store: Engine) -> None:
    if store.dialect.name != "sqlite":
        pytest.skip("SQLite's pool")
    store.dispose()  # an empty pool: a read would have to open a connection
    reads = LoopReads(store)
    assert reads.read(_username) is UNANSWERED
    with store.connect() as conn:  # now one sits idle in the pool
        assert _username(conn) == "user1"
    assert reads.read(_username) == "user1"


def test_a_long_read_is_stopped_and_unanswered(store: Engine) -> None:
    if store.dialect.name != "sqlite":
        pytest.skip("SQLite's step bound")
    reads = LoopReads(store)
    assert reads.read(lambda conn: conn.exec_driver_sql(LONG).scalar()) is UNANSWERED
    assert LOOP_READ_STEPS < 100000
    assert reads.read(_username) == "user1"  # the next read is answered as before
    with store.connect() as conn:
        assert conn.exec_driver_sql(LONG).scalar() == 100000


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
        assert LoopReads(store).read(_username) is UNANSWERED
    finally:
        holder.rollback()
        holder.close()
    with store.connect() as conn:  # released: a pooled connection idle again
        assert _username(conn) == "user1"
    assert LoopReads(store).read(_username) == "user1"
