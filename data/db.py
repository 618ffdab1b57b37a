"""Opening the store: one engine factory for SQLite and PostgreSQL, and the schema check.

SQLite is the embedded default; each connection gets WAL (readers never block the writer),
enforced foreign keys, and a busy timeout so that concurrent server workers wait instead of
failing. A PostgreSQL URL needs no special handling beyond the driver.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.engine import make_url

from data.migrations import LATEST_VERSION, StoreError, current_version, migrate


def make_engine(url: str) -> Engine:
    """Create an engine; for SQLite, create the file's folder and set the connection pragmas."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
    event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_conn: sqlite3.Connection, _record: object) -> None:
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def open_store(url: str, *, create: bool = False) -> Engine:
    """Open the store and check its schema version.

    With ``create`` an empty database is created or an older one migrated; without it a missing
    or outdated schema is an error, so a server never silently writes a schema of its own.
    Raises ``StoreError`` with a message naming what was found.
    """
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            found = current_version(conn)
            if found == LATEST_VERSION:
                return engine
            if not create:
                if found is None:
                    raise StoreError(
                        f"the store at {_safe(url)} is empty; run `movierec etl` to build it"
                    )
                raise StoreError(
                    f"the store at {_safe(url)} has schema version {found}, this movierec "
                    f"needs {LATEST_VERSION}; run `movierec etl` to migrate it"
                )
            migrate(conn, found)
    except Exception:
        engine.dispose()
        raise
    return engine


def store_exists(url: str) -> bool:
    """True when the database exists and holds a movierec schema of any version."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and (
        not parsed.database or not Path(parsed.database).exists()
    ):
        return False
    engine = make_engine(url)
    try:
        return "schema_version" in inspect(engine).get_table_names()
    finally:
        engine.dispose()


def _safe(url: str) -> str:
    """The URL with any password hidden, for messages and logs."""
    return make_url(url).render_as_string(hide_password=True)
