"""Schema versions, kept by Alembic: which revision a store is at, and bringing it to head.

The revisions ship inside the ``data`` package (``versions/``), so an installed wheel carries
them, and the Alembic configuration is built here in code: nothing needs an ``alembic.ini``.
Every run uses the caller's connection and transaction, so a failed upgrade leaves the store as
it was (PostgreSQL and SQLite both have transactional DDL).

Besides Alembic's own states a store can be *legacy*: the release before Alembic versioned its
store with a ``schema_version`` table at version 1, whose tables are revision ``BASELINE``.
Such a store is adopted (that table dropped, ``BASELINE`` stamped) and then upgraded like any
other. A database that is not ours, or of a revision newer than this code, is refused with a
message naming what was found.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, inspect, text

log = logging.getLogger(__name__)

# Where env.py, the revision template and versions/ are: package files, not runtime state.
SCRIPTS = Path(__file__).parent
# The first revision: the schema of the last release before Alembic.
BASELINE = "0001"
VERSION_TABLE = "alembic_version"
LEGACY_TABLE = "schema_version"
LEGACY_VERSION = 1
# A table every movierec schema has; tells a newer movierec's store from another application's.
CORE_TABLE = "movies"


class StoreError(RuntimeError):
    """The store is missing, foreign, or of a schema revision this code cannot use."""


@dataclass(frozen=True, slots=True)
class Found:
    """A store's schema: its Alembic revision (``None`` when empty) and whether it still has to
    be adopted from the pre-Alembic ``schema_version`` table."""

    revision: str | None
    legacy: bool = False


def config(conn: Connection | None = None) -> Config:
    """Alembic's configuration, built in code; ``conn`` is what env.py migrates."""
    cfg = Config(attributes={"connection": conn})
    cfg.set_main_option("script_location", str(SCRIPTS))
    cfg.set_main_option("path_separator", "os")
    # Revision files named "0002_add_rate_limits.py": ordered, and readable in a listing.
    cfg.set_main_option("file_template", "%%(rev)s_%%(slug)s")
    return cfg


def scripts() -> ScriptDirectory:
    """The revisions, read from disk on each call: cheap (a few ms), and never stale."""
    return ScriptDirectory.from_config(config())


def head() -> str:
    """The newest revision this code knows: what every store it serves must be at."""
    found = scripts().get_current_head()
    if found is None:
        raise StoreError(f"no schema revisions in {SCRIPTS / 'versions'}")
    return found


def current(conn: Connection) -> Found:
    """The store's schema; raises ``StoreError`` on a foreign or newer database (the message
    says what was found; the caller names the store)."""
    tables = set(inspect(conn).get_table_names())
    revisions: list[str] = []
    if VERSION_TABLE in tables:
        # Read directly: Alembic's MigrationContext would log two INFO lines in every worker.
        revisions = list(conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalars())
    ours = tables - {VERSION_TABLE}
    if not revisions:
        if LEGACY_TABLE in tables:
            return _legacy(conn)
        if ours:
            shown = ", ".join(sorted(ours)[:5])
            raise StoreError(
                f"not a movierec database: no schema revision (found: {shown}); point "
                "MOVIEREC_DATABASE_URL at a movierec store or an empty database"
            )
        return Found(None)
    if len(revisions) > 1:
        raise StoreError(f"several schema revisions ({', '.join(revisions)}); movierec has one")
    revision = revisions[0]
    if revision not in {script.revision for script in scripts().walk_revisions()}:
        if CORE_TABLE not in tables:
            raise StoreError(
                f"not a movierec database: Alembic revision {revision} is not movierec's and "
                f"there is no {CORE_TABLE} table; point MOVIEREC_DATABASE_URL at a movierec store"
            )
        raise StoreError(
            f"schema revision {revision} is newer than this movierec knows "
            f"(its newest is {head()}); upgrade movierec"
        )
    return Found(revision)


def _legacy(conn: Connection) -> Found:
    version = conn.execute(text(f"SELECT max(version) FROM {LEGACY_TABLE}")).scalar()
    if version is None:
        raise StoreError(f"not a movierec database: {LEGACY_TABLE} table is empty")
    if version != LEGACY_VERSION:
        raise StoreError(
            f"schema version {version}, which no movierec release made (the last before "
            f"Alembic made {LEGACY_VERSION}); point MOVIEREC_DATABASE_URL at a movierec store"
        )
    return Found(BASELINE, legacy=True)


def upgrade(conn: Connection, found: Found) -> None:
    """Bring the store from ``found`` to head in the caller's transaction."""
    if conn.dialect.name == "sqlite":
        _begin_sqlite_transaction(conn)
    cfg = config(conn)
    if found.legacy:
        conn.execute(text(f"DROP TABLE {LEGACY_TABLE}"))
        command.stamp(cfg, BASELINE)
    command.upgrade(cfg, "head")
    log.info("store schema upgraded from %s to revision %s", _name(found), head())


def _name(found: Found) -> str:
    if found.revision is None:
        return "nothing"
    if found.legacy:
        return f"the pre-Alembic {LEGACY_TABLE} {LEGACY_VERSION}"
    return f"revision {found.revision}"


def _begin_sqlite_transaction(conn: Connection) -> None:
    """Python's sqlite3 opens a transaction only before a data change and runs DDL in autocommit
    mode; an explicit BEGIN first makes the whole upgrade, DDL included, one transaction."""
    dbapi = conn.connection.dbapi_connection
    if dbapi is not None and not getattr(dbapi, "in_transaction", True):
        conn.exec_driver_sql("BEGIN")
