"""Signed, expiring bearer tokens (HS256 JWTs) naming a user id.

Tokens are stateless so that every worker accepts them with only the shared secret; ``logout``
is therefore the client dropping its token, and a token stays valid until it expires (revoking
early needs a per-user "tokens valid after" column in the store: the growth path).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt

_ALGORITHM = "HS256"
_AUDIENCE = "movierec"


@dataclass(frozen=True, slots=True)
class IssuedToken:
    token: str
    expires_at: datetime


class TokenSigner:
    def __init__(self, secret: str, ttl_seconds: int) -> None:
        if len(secret) < 32:
            raise ValueError("the token secret must be at least 32 characters")
        self._secret = secret
        self._ttl = timedelta(seconds=ttl_seconds)

    def issue(self, user_id: int) -> IssuedToken:
        now = datetime.now(UTC).replace(microsecond=0)
        expires_at = now + self._ttl
        claims = {
            "sub": str(user_id),
            "aud": _AUDIENCE,
            "iat": now,
            "exp": expires_at,
            "jti": secrets.token_urlsafe(12),
        }
        return IssuedToken(jwt.encode(claims, self._secret, algorithm=_ALGORITHM), expires_at)

    def user_id(self, token: str) -> int | None:
        """The user a valid, unexpired token names; None for anything else."""
        try:
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=[_ALGORITHM],
                audience=_AUDIENCE,
                options={"require": ["sub", "exp", "aud"]},
            )
            return int(claims["sub"])
        except (jwt.InvalidTokenError, ValueError):
            return None
