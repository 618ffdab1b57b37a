"""Schema versioning: a version table plus ordered, explicit migration steps.

A fresh database gets the current tables in one step and is stamped with the latest version; an
older movierec database runs the steps after its version, each in the caller's transaction. A
database that is not ours (tables but no version) or newer than this code is refused with a
message naming what was found. Add a step by appending to ``STEPS`` and updating ``schema.py``.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Connection, inspect, select

from data.schema import metadata, schema_version


class StoreError(RuntimeError):
    """The store is missing, foreign, or of a schema version this code cannot use."""


# STEPS[n] upgrades a database at version n to n + 1. Version 1 is the first schema.
STEPS: dict[int, Callable[[Connection], None]] = {}
LATEST_VERSION = 1 + len(STEPS)


def current_version(conn: Connection) -> int | None:
    """The schema version, ``None`` for an empty database; raises on a foreign one."""
    tables = set(inspect(conn).get_table_names())
    if not tables:
        return None
    if "schema_version" not in tables:
        shown = ", ".join(sorted(tables)[:5])
        raise StoreError(f"not a movierec database: no schema_version table (found: {shown})")
    version = conn.execute(
        select(schema_version.c.version).order_by(schema_version.c.version.desc()).limit(1)
    ).scalar()
    if version is None:
        raise StoreError("not a movierec database: schema_version table is empty")
    if version > LATEST_VERSION:
        raise StoreError(
            f"the store has schema version {version}, newer than this movierec knows "
            f"({LATEST_VERSION}); upgrade movierec"
        )
    return int(version)


def migrate(conn: Connection, found: int | None) -> None:
    """Bring the database from ``found`` (``None`` = empty) to ``LATEST_VERSION``."""
    if found is None:
        metadata.create_all(conn)
        conn.execute(schema_version.insert().values(version=LATEST_VERSION))
        return
    for version in range(found, LATEST_VERSION):
        STEPS[version](conn)
        conn.execute(schema_version.insert().values(version=version + 1))
