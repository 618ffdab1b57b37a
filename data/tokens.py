"""The revoked-token list: ids of bearer tokens signed out before they expired."""

from __future__ import annotations

from sqlalchemy import Connection, bindparam, delete, select

from data.catalog import upsert
from data.schema import revoked_tokens


def revoke_token(conn: Connection, jti: str, expires_at: int) -> None:
    """Record a token as signed out; doing it twice (a retried logout) is harmless."""
    upsert(conn, revoked_tokens, [{"jti": jti, "expires_at": expires_at}], key=["jti"])


# Built once: every request with a token runs it, and constructing the statement anew costs
# more than executing it (about 40 of 70 microseconds on SQLite).
_IS_REVOKED = select(revoked_tokens.c.jti).where(revoked_tokens.c.jti == bindparam("jti"))


def is_revoked(conn: Connection, jti: str) -> bool:
    return conn.execute(_IS_REVOKED, {"jti": jti}).first() is not None


def purge_expired(conn: Connection, now: int) -> None:
    """Forget tokens that have expired (their signature check rejects them already)."""
    conn.execute(delete(revoked_tokens).where(revoked_tokens.c.expires_at <= now))
