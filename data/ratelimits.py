"""Attempt counters shared by every worker: one row per key, counted in a fixed window.

Counting is one statement, ``INSERT ... ON CONFLICT DO UPDATE ... RETURNING``: the store
serialises it (SQLite's single writer, PostgreSQL's row lock on the conflicting key), so two
workers can never both read 9 and both write 10, and the caller decides on the count its own
attempt produced.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Connection, bindparam, case, delete, update

from data.catalog import insert_on_conflict
from data.schema import rate_limits

_NOW = bindparam("now", type_=BigInteger)


def count_attempt(conn: Connection, key: str, now: int, window_seconds: int) -> tuple[int, int]:
    """Add one attempt under ``key``; its count in the window and the window's end (Unix s).

    A key whose window has closed starts a new one at ``now``: the window opens with the first
    attempt, not on a wall-clock boundary.
    """
    insert = insert_on_conflict(conn, rate_limits).values(
        key=key, count=1, expires_at=now + window_seconds
    )
    closed = rate_limits.c.expires_at <= _NOW
    statement = insert.on_conflict_do_update(
        index_elements=[rate_limits.c.key],
        set_={
            "count": case((closed, 1), else_=rate_limits.c.count + 1),
            "expires_at": case(
                (closed, insert.excluded.expires_at), else_=rate_limits.c.expires_at
            ),
        },
    ).returning(rate_limits.c.count, rate_limits.c.expires_at)
    count, expires_at = conn.execute(statement, {"now": now}).one()
    return int(count), int(expires_at)


def uncount_attempt(conn: Connection, key: str) -> None:
    """Take one attempt back (it turned out not to be one the limit is about)."""
    conn.execute(
        update(rate_limits)
        .where(rate_limits.c.key == key, rate_limits.c.count > 0)
        .values(count=rate_limits.c.count - 1)
    )


def forget(conn: Connection, key: str) -> None:
    conn.execute(delete(rate_limits).where(rate_limits.c.key == key))


def purge_expired(conn: Connection, now: int) -> None:
    """Drop counters whose window has closed: what the table holds is bounded by live windows."""
    conn.execute(delete(rate_limits).where(rate_limits.c.expires_at <= now))
