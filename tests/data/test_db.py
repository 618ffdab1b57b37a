from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest
from psycopg.pq import TransactionStatus
from sqlalchemy import Connection, Engine, event, insert, select, text
from sqlalchemy.exc import IntegrityError

from data import db, migrations
from data.db import make_engine, open_store, reader, store_exists
from data.migrations import StoreError
from data.schema import movies, ratings, users


def test_new_store_is_stamped_with_the_head_revision(engine: Engine) -> None:
    with engine.connect() as conn:
        revision = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    assert revision == migrations.head()


def test_sqlite_pragmas_enforce_foreign_keys_and_wal(engine: Engine) -> None:
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        with pytest.raises(IntegrityError):
            conn.execute(insert(ratings).values(user_id=1, movie_id=1, rating=4.0, rated_at=0))


def _seed(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(
            insert(movies).values(id=1, title="Toy Story", movielens_title="Toy Story (1995)")
        )
        conn.execute(insert(users).values(id=1, username="user1", password_hash="x"))


@pytest.mark.parametrize("bad", [0.0, 5.5, 3.3, -1.0])
def test_ratings_must_be_half_stars_in_range(engine: Engine, bad: float) -> None:
    _seed(engine)
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(insert(ratings).values(user_id=1, movie_id=1, rating=bad, rated_at=0))


def test_usernames_are_unique_case_insensitively(engine: Engine) -> None:
    _seed(engine)
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(insert(users).values(id=2, username="USER1", password_hash="x"))


def test_empty_database_is_refused_without_create(store_url: str) -> None:
    with pytest.raises(StoreError, match="empty"):
        open_store(store_url)
    assert not store_exists(store_url)


def test_foreign_database_is_refused_with_the_tables_it_has(tmp_path: Path) -> None:
    path = tmp_path / "foreign.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE invoices (id INTEGER)")
    with pytest.raises(StoreError, match=r"not a movierec database.*invoices"):
        open_store(f"sqlite:///{path}", create=True)


def test_newer_schema_is_refused_naming_the_revision(engine: Engine, store_url: str) -> None:
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    for create in (False, True):
        with pytest.raises(
            StoreError, match="schema revision 9999 is newer than this movierec knows"
        ):
            open_store(store_url, create=create)


def test_postgres_reads_open_no_transaction(postgres_url: str) -> None:
    """A read through ``reader`` is one round trip: no BEGIN before it, no ROLLBACK after."""
    engine = open_store(postgres_url, create=True)
    try:
        with reader(engine).connect() as conn:
            conn.execute(text("SELECT 1"))
            assert _driver(conn).info.transaction_status == TransactionStatus.IDLE
        with engine.connect() as conn:  # the engine itself keeps transactions, for writes
            conn.execute(text("SELECT 1"))
            assert _driver(conn).info.transaction_status == TransactionStatus.INTRANS

        def two_accounts_one_name() -> None:
            with engine.begin() as conn:
                conn.execute(insert(users).values(id=1, username="user1", password_hash="x"))
                conn.execute(insert(users).values(id=2, username="USER1", password_hash="x"))

        with pytest.raises(IntegrityError):
            two_accounts_one_name()
        with reader(engine).connect() as conn:  # the failed write left nothing behind
            assert conn.execute(select(users.c.id)).all() == []
    finally:
        engine.dispose()


def _driver(conn: Connection) -> Any:
    return conn.connection.driver_connection


def test_a_burst_of_postgres_reads_keeps_its_connections_for_the_next(postgres_url: str) -> None:
    """As many reads at once as a worker's threads have connections for (those the event loop
    keeps aside, ``LoopReads``, come out of the same 40) are each given one, and up to
    ``POOL_SIZE`` stay open for the next burst: no new server process per read."""
    engine = make_engine(postgres_url)
    try:
        burst = db.POOL_SIZE + db.POSTGRES_POOL_OVERFLOW
        assert burst + db.LOOP_CONNECTIONS == db.POOL_SIZE + db.POOL_OVERFLOW  # 40 in all
        for _ in range(2):
            held = [engine.connect() for _ in range(burst)]
            pids = [conn.execute(text("SELECT pg_backend_pid()")).scalar_one() for conn in held]
            for conn in held:
                conn.close()
        kept = db.POOL_SIZE
        assert len(set(pids)) == burst
        # The second burst reused the connections the first left in the pool (the first
        # ``kept`` it checks out), and opened only the rest.
        reused = [engine.connect() for _ in range(kept)]
        again = {conn.execute(text("SELECT pg_backend_pid()")).scalar_one() for conn in reused}
        for conn in reused:
            conn.close()
        assert len(again & set(pids)) == kept
    finally:
        engine.dispose()


def test_a_burst_of_sqlite_reads_keeps_its_connections_for_the_next(store_url: str) -> None:
    """The same pool on SQLite: a burst as wide as a worker's threads leaves ``POOL_SIZE``
    connections open, so the next reads open none (and run no connection pragmas)."""
    engine = make_engine(store_url)
    opened: list[object] = []
    event.listen(engine, "connect", lambda dbapi_conn, _record: opened.append(dbapi_conn))
    try:
        held = [engine.connect() for _ in range(db.POOL_SIZE + db.POOL_OVERFLOW)]
        for conn in held:
            conn.close()
        assert len(opened) == db.POOL_SIZE + db.POOL_OVERFLOW
        reused = [engine.connect() for _ in range(db.POOL_SIZE)]
        for conn in reused:
            conn.close()
        assert len(opened) == db.POOL_SIZE + db.POOL_OVERFLOW, "no connection opened again"
    finally:
        engine.dispose()


def test_an_idle_pooled_connection_is_pinged_and_replaced_when_dead(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine, killer = make_engine(postgres_url), make_engine(postgres_url)
    try:
        with engine.connect() as conn:
            first = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
        with killer.connect() as conn:
            conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": first})
            gone = text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid")
            deadline = time.monotonic() + 10
            while conn.execute(gone, {"pid": first}).scalar_one():
                assert time.monotonic() < deadline, "the backend did not exit"
                time.sleep(0.05)
                # pg_stat_activity is a snapshot kept for the transaction: without this, a
                # backend still there at the first look stays there to the deadline.
                conn.execute(text("SELECT pg_stat_clear_snapshot()"))
        monkeypatch.setattr(db, "IDLE_PING_SECONDS", 0.0)  # as if it had sat idle long enough
        with engine.connect() as conn:
            second = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
        assert second != first
    finally:
        engine.dispose()
        killer.dispose()
