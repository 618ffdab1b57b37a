"""Per-user versions of the ranking's inputs kept current on write: ``user_versions``.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 17:30:00

A worker caches each user's ranked recommendations (``graph/services/ranking_cache.py``) and may
serve one only while the user's ratings and watchlist are what it was ranked from. Checking that
by reading every rating to digest them cost most of a cache hit (a user with thousands of
ratings reads and parses thousands). Now one row per user holds a version that changes with
every write to their ratings or watchlist, in the writing statement's own transaction, whoever
writes (the API, the ETL's merge, a cascade from a deleted movie or user), so a hit reads one
row by primary key.

The version is a fresh random 64-bit value (62 bits on PostgreSQL), not a counter: a counter
would start again at 1 in a rebuilt store or table, and a worker still holding a list cached
under "user 1, version 3" from before could then serve it for a different "version 3". A random
value repeats for the same user only by chance (2^-62 per write), like the digest it replaces.
A user with no row has never had a rating or a saved movie (the upgrade gives every user who
has either a row), so their list is the cold-start one.

- SQLite: row triggers on ``ratings`` and ``watchlist`` (insert, update, delete; an update bumps
  the old row's user and the new one's).
- PostgreSQL: statement triggers over the transition tables, one upsert per statement for the
  users it touched, in user id order (two writers then lock users' rows in the same order).

The ETL's first load into an empty ``ratings`` drops every trigger on it and rebuilds what they
keep in one statement each (``data.catalog.rebuild_ratings_derived``).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

TABLES = ("ratings", "watchlist")
OPERATIONS = ("insert", "update", "delete")

# SQLite: random() is a uniformly random signed 64-bit integer.
_SQLITE_BUMP = """
    INSERT INTO user_versions (user_id, version) VALUES ({row}.user_id, random())
    ON CONFLICT (user_id) DO UPDATE SET version = excluded.version;
"""
_SQLITE_ROWS = {"insert": ("NEW",), "update": ("OLD", "NEW"), "delete": ("OLD",)}


def sqlite_trigger(table: str, operation: str) -> str:
    bumps = "".join(_SQLITE_BUMP.format(row=row) for row in _SQLITE_ROWS[operation])
    return f"AFTER {operation.upper()} ON {table} BEGIN {bumps} END"


# PostgreSQL: random() has 52 random bits in a double; two of them make 62 (a bigint's 63
# without overflow at the top).
POSTGRES_RANDOM = "(((random() * 2147483648)::bigint << 31) | (random() * 2147483648)::bigint)"
POSTGRES_FUNCTION = "user_versions_bump"


def _bump(source: str) -> str:
    return f"""
        INSERT INTO user_versions (user_id, version)
        SELECT user_id, {POSTGRES_RANDOM} FROM ({source}) AS touched ORDER BY user_id
        ON CONFLICT (user_id) DO UPDATE SET version = excluded.version;
    """


_POSTGRES_BODY = f"""
BEGIN
    IF TG_OP = 'INSERT' THEN
        {_bump("SELECT DISTINCT user_id FROM new_rows")}
    ELSIF TG_OP = 'DELETE' THEN
        {_bump("SELECT DISTINCT user_id FROM old_rows")}
    ELSE
        {_bump("SELECT user_id FROM old_rows UNION SELECT user_id FROM new_rows")}
    END IF;
    RETURN NULL;
END
"""
_POSTGRES_TABLES = {
    "insert": "REFERENCING NEW TABLE AS new_rows",
    "delete": "REFERENCING OLD TABLE AS old_rows",
    "update": "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows",
}


def trigger_name(table: str, operation: str) -> str:
    return f"{table}_user_version_{operation}"


def fill(source: str, *, sqlite: bool) -> str:
    """A fresh version for every user in ``source`` (a query of user ids), as one upsert."""
    value = "random()" if sqlite else POSTGRES_RANDOM
    return (
        f"INSERT INTO user_versions (user_id, version) SELECT user_id, {value} "
        f"FROM ({source}) AS touched WHERE true "  # WHERE: SQLite's upsert-after-SELECT rule
        "ON CONFLICT (user_id) DO UPDATE SET version = excluded.version"
    )


def upgrade() -> None:
    op.create_table(
        "user_versions",
        sa.Column("user_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("user_id"),
    )
    sqlite = op.get_bind().dialect.name == "sqlite"
    op.execute(
        fill("SELECT user_id FROM ratings UNION SELECT user_id FROM watchlist", sqlite=sqlite)
    )
    if not sqlite:
        op.execute(
            f"CREATE OR REPLACE FUNCTION {POSTGRES_FUNCTION}() RETURNS trigger "
            f"LANGUAGE plpgsql AS $body${_POSTGRES_BODY}$body$"
        )
    for table in TABLES:
        for operation in OPERATIONS:
            name = trigger_name(table, operation)
            if sqlite:
                op.execute(f"CREATE TRIGGER {name} {sqlite_trigger(table, operation)}")
            else:
                op.execute(
                    f"CREATE TRIGGER {name} AFTER {operation.upper()} ON {table} "
                    f"{_POSTGRES_TABLES[operation]} "
                    f"FOR EACH STATEMENT EXECUTE FUNCTION {POSTGRES_FUNCTION}()"
                )


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    for table in TABLES:
        for operation in OPERATIONS:
            name = trigger_name(table, operation)
            op.execute(f"DROP TRIGGER {name}" if sqlite else f"DROP TRIGGER {name} ON {table}")
    if not sqlite:
        op.execute(f"DROP FUNCTION {POSTGRES_FUNCTION}()")
    op.drop_table("user_versions")
