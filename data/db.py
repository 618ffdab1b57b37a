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

from data import migrations
from data.migrations import Found, StoreError


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
    """Open the store and check that its schema is at this code's head revision.

    With ``create`` an empty database is built, or an older one (the pre-Alembic release's
    included) upgraded, in one transaction; without it anything but head is an error, so a
    server never silently writes a schema of its own. Raises ``StoreError`` with one line
    saying what was found and which command fixes it.
    """
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            try:
                found = migrations.current(conn)
            except StoreError as exc:
                raise StoreError(f"the store at {_safe(url)}: {exc}") from None
            if found.revision == migrations.head() and not found.legacy:
                return engine
            if not create:
                raise StoreError(_outdated(url, found))
            migrations.upgrade(conn, found)
    except Exception:
        engine.dispose()
        raise
    return engine


def _outdated(url: str, found: Found) -> str:
    if found.revision is None:
        return f"the store at {_safe(url)} is empty; run `movierec etl` to build it"
    if found.legacy:
        return (
            f"the store at {_safe(url)} was built by a movierec release before Alembic "
            f"(schema_version {migrations.LEGACY_VERSION}); run `movierec db upgrade` to migrate it"
        )
    return (
        f"the store at {_safe(url)} is at schema revision {found.revision}, this movierec needs "
        f"{migrations.head()}; run `movierec db upgrade` to migrate it"
    )


def store_exists(url: str) -> bool:
    """True when the database exists and holds a movierec schema of any revision."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and (
        not parsed.database or not Path(parsed.database).exists()
    ):
        return False
    engine = make_engine(url)
    try:
        tables = set(inspect(engine).get_table_names())
    finally:
        engine.dispose()
    return bool(tables & {migrations.VERSION_TABLE, migrations.LEGACY_TABLE})


def _safe(url: str) -> str:
    """The URL with any password hidden, for messages and logs."""
    return make_url(url).render_as_string(hide_password=True)
