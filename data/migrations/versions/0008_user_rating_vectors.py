"""A heavy user's ratings packed into one row, kept valid on write: ``user_rating_vectors``.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 00:30:00

Every recommendation reads the user's ratings. Aggregated from ``ratings`` that read scans one
row per rating: about 16 ms for a user with 30,000 (the scan alone 10-14 ms on SQLite), against
a target of 10 ms. Now a user with many ratings has one row holding them packed as bytes
(``data.ratings.pack_ratings``), which the read returns as it is stored.

The row is a cache, and ``stale_writes`` says whether it can be trusted: triggers on ``ratings``
add one to it for each writing statement that touches the user's ratings, in that statement's
transaction, whoever writes (the API, raw SQL, the ETL's merge, a cascade from a deleted movie
or user). The writers of ``data.ratings`` then fold their own write into the packed ratings and
set it back to 0 (or pack the user's ratings again when something else wrote since); a reader
uses the row only at 0, otherwise it aggregates ``ratings`` as before. A writer that does not
know the row makes the user's reads slower, never wrong.

Not ``user_versions`` (0007): its version also changes with every watchlist write, which leaves
the ratings as they were, and could not tell a writer whether its own write was the only one
since the row was packed.

- SQLite: row triggers (insert, update, delete; an update counts the old row's user and the new
  one's, once when they are the same user).
- PostgreSQL: statement triggers over the transition tables, one update per statement for the
  users it touched. The packed column is stored uncompressed (``STORAGE EXTERNAL``).

The upgrade packs nothing: the next ETL run packs the heavy users' ratings, and a user's next
rating packs theirs. The ETL's first load into an empty ``ratings`` drops the triggers (as it
does 0006's and 0007's) and empties the table (``data.catalog.rebuild_ratings_derived``).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

OPERATIONS = ("insert", "update", "delete")

_SQLITE_USERS = {
    "insert": "NEW.user_id",
    "update": "OLD.user_id, NEW.user_id",
    "delete": "OLD.user_id",
}


def sqlite_trigger(operation: str) -> str:
    return (
        f"AFTER {operation.upper()} ON ratings BEGIN UPDATE user_rating_vectors "
        f"SET stale_writes = stale_writes + 1 WHERE user_id IN ({_SQLITE_USERS[operation]}); END"
    )


POSTGRES_FUNCTION = "user_rating_vectors_stale"


def _stale(source: str) -> str:
    return (
        "UPDATE user_rating_vectors SET stale_writes = stale_writes + 1 "
        f"WHERE user_id IN ({source});"
    )


_POSTGRES_BODY = f"""
BEGIN
    IF TG_OP = 'INSERT' THEN
        {_stale("SELECT user_id FROM new_rows")}
    ELSIF TG_OP = 'DELETE' THEN
        {_stale("SELECT user_id FROM old_rows")}
    ELSE
        {_stale("SELECT user_id FROM old_rows UNION SELECT user_id FROM new_rows")}
    END IF;
    RETURN NULL;
END
"""
_POSTGRES_TABLES = {
    "insert": "REFERENCING NEW TABLE AS new_rows",
    "delete": "REFERENCING OLD TABLE AS old_rows",
    "update": "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows",
}


def trigger_name(operation: str) -> str:
    return f"ratings_vector_{operation}"


def upgrade() -> None:
    op.create_table(
        "user_rating_vectors",
        sa.Column("user_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("stale_writes", sa.Integer(), nullable=False),
        sa.Column("ratings", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("user_id"),
    )
    sqlite = op.get_bind().dialect.name == "sqlite"
    if not sqlite:
        # Out of line and not compressed: a read copies the bytes instead of decompressing
        # them (30,000 ratings, 390 kB, pglz made 275 kB of them: bench/user_read.py's packed
        # read 1.3-2.1 against 2.9-3.6 ms, medians of 3 rounds, alternating the two storages
        # with ALTER ... SET STORAGE and a rewrite of the rows).
        op.execute("ALTER TABLE user_rating_vectors ALTER COLUMN ratings SET STORAGE EXTERNAL")
        op.execute(
            f"CREATE OR REPLACE FUNCTION {POSTGRES_FUNCTION}() RETURNS trigger "
            f"LANGUAGE plpgsql AS $body${_POSTGRES_BODY}$body$"
        )
    for operation in OPERATIONS:
        name = trigger_name(operation)
        if sqlite:
            op.execute(f"CREATE TRIGGER {name} {sqlite_trigger(operation)}")
        else:
            op.execute(
                f"CREATE TRIGGER {name} AFTER {operation.upper()} ON ratings "
                f"{_POSTGRES_TABLES[operation]} "
                f"FOR EACH STATEMENT EXECUTE FUNCTION {POSTGRES_FUNCTION}()"
            )


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    for operation in OPERATIONS:
        name = trigger_name(operation)
        op.execute(f"DROP TRIGGER {name}" if sqlite else f"DROP TRIGGER {name} ON ratings")
    if not sqlite:
        op.execute(f"DROP FUNCTION {POSTGRES_FUNCTION}()")
    op.drop_table("user_rating_vectors")
