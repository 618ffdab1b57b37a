"""What the readiness probe reads: one row of each main table, each on its own connection.

``SELECT 1`` alone proves only that a connection opens; a table whose pages are damaged, or
that is missing, answers it fine and then fails a third of the catalog's reads. One row per
table is cheap (an index-free ``LIMIT 1``) and touches each table's root page. Damage deeper in
a table is what ``PRAGMA quick_check`` finds at start-up (``data.db.check_integrity``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Engine, literal, select, text
from sqlalchemy.exc import DBAPIError

from data.db import describe
from data.schema import (
    genres,
    movie_genres,
    movies,
    rate_limits,
    ratings,
    revoked_tokens,
    tags,
    users,
)

_READS = {
    table.name: select(literal(1)).select_from(table).limit(1)
    for table in (movies, genres, movie_genres, users, ratings, tags, revoked_tokens, rate_limits)
}


@dataclass(frozen=True)
class StoreHealth:
    """``state`` is ok, unreachable (no connection) or unreadable (``problems`` says where);
    ``error`` is the first failure itself, for the log's traceback."""

    state: str
    problems: dict[str, str] = field(default_factory=dict)
    error: Exception | None = None


def store_health(engine: Engine) -> StoreHealth:
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except DBAPIError as exc:
        return StoreHealth("unreachable", {"connection": describe(exc)}, exc)
    problems = {}
    first: Exception | None = None
    # A connection each: on PostgreSQL a failed statement spoils its transaction for the rest.
    for name, statement in _READS.items():
        try:
            with engine.connect() as conn:
                conn.execute(statement).first()
        except DBAPIError as exc:
            problems[name] = describe(exc)
            first = first or exc
    return StoreHealth("unreadable" if problems else "ok", problems, first)
