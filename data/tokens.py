"""The revoked-token list (ids of bearer tokens signed out before they expired), and the one
query that decides whether a correctly signed token still names a signed-in user, and who."""

from __future__ import annotations

from typing import NamedTuple

from sqlalchemy import Connection, bindparam, delete, exists, select

from data.catalog import upsert
from data.db import PointRead, Row, driver_sql
from data.schema import revoked_tokens, user_versions, users


def revoke_token(conn: Connection, jti: str, expires_at: int) -> None:
    """Record a token as signed out; doing it twice (a retried logout) is harmless."""
    upsert(conn, revoked_tokens, [{"jti": jti, "expires_at": expires_at}], key=["jti"])


class Holder(NamedTuple):
    """A signed-in token's user as the store says now."""

    username: str
    # The version of their ranking inputs (``data.ratings.ranking_version``; None: they never
    # rated or saved a movie), read in the same statement.
    ranking_version: int | None


# Compiled once, to each driver's SQL (``PointRead``): every request with a token runs it, and
# constructing the statement anew costs more than executing it (about 40 of 70 microseconds on
# SQLite). Two primary-key look-ups in one
# round trip: the user must still exist (an account deleted, or a store rebuilt under the same
# secret, leaves valid signatures behind) and the token must not have been signed out. It reads
# the username on the way, so that ``viewer { username }`` costs no second look-up, and the
# user's ranking version, by key too, so that the viewer's cached recommendations cost none.
_HOLDER = driver_sql(
    select(
        users.c.username,
        select(user_versions.c.version)
        .where(user_versions.c.user_id == bindparam("user_id"))
        .scalar_subquery(),
    ).where(
        users.c.id == bindparam("user_id"),
        ~exists().where(revoked_tokens.c.jti == bindparam("jti")),
    )
)


def token_holder(user_id: int, jti: str) -> PointRead[Holder | None]:
    """User ``user_id`` when they exist and token ``jti`` was not signed out; a ``PointRead``,
    so the request path reads it on the event loop when it can."""
    return PointRead(_HOLDER, {"user_id": user_id, "jti": jti}, _holder)


def _holder(row: Row | None) -> Holder | None:
    return None if row is None else Holder(row[0], row[1])


def purge_expired(conn: Connection, now: int) -> None:
    """Forget tokens that have expired (their signature check rejects them already)."""
    conn.execute(delete(revoked_tokens).where(revoked_tokens.c.expires_at <= now))
