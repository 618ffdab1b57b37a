"""The revoked-token list (ids of bearer tokens signed out before they expired), and the one
query that decides whether a correctly signed token still names a signed-in user, and who."""

from __future__ import annotations

from sqlalchemy import Connection, bindparam, delete, exists, select

from data.catalog import upsert
from data.schema import revoked_tokens, users


def revoke_token(conn: Connection, jti: str, expires_at: int) -> None:
    """Record a token as signed out; doing it twice (a retried logout) is harmless."""
    upsert(conn, revoked_tokens, [{"jti": jti, "expires_at": expires_at}], key=["jti"])


# Built once: every request with a token runs it, and constructing the statement anew costs
# more than executing it (about 40 of 70 microseconds on SQLite). Two primary-key look-ups in one
# round trip: the user must still exist (an account deleted, or a store rebuilt under the same
# secret, leaves valid signatures behind) and the token must not have been signed out. It reads
# the username on the way, so that ``viewer { username }`` costs no second look-up.
_HOLDER = select(users.c.username).where(
    users.c.id == bindparam("user_id"),
    ~exists().where(revoked_tokens.c.jti == bindparam("jti")),
)


def token_holder(conn: Connection, user_id: int, jti: str) -> str | None:
    """User ``user_id``'s username when they exist and token ``jti`` was not signed out."""
    username: str | None = conn.execute(_HOLDER, {"user_id": user_id, "jti": jti}).scalar()
    return username


def purge_expired(conn: Connection, now: int) -> None:
    """Forget tokens that have expired (their signature check rejects them already)."""
    conn.execute(delete(revoked_tokens).where(revoked_tokens.c.expires_at <= now))
