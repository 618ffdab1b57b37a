"""Signed, expiring bearer tokens (HS256 JWTs) naming a user id, revocable by signing out.

The signature and expiry need only the shared secret, so every worker checks them alone; what
they cannot tell is that the token was signed out, or that its user no longer exists (an
account deleted, a store rebuilt under the same secret). ``logout`` therefore records the token's
id (``jti``) in the store until the token expires, and resolving a token costs one query of two
primary-key look-ups (the user, the revocation), made only for a request whose token passed the
signature check: requests without a token, and forged or expired ones, never reach the store. A
token that fails either look-up resolves to nobody, so every operation answers it as
UNAUTHENTICATED rather than failing later on a foreign key. The look-up of the user brings
their username along: ``viewer`` then needs no query of its own.

Checking the signature costs about 80 us of PyJWT per request, the same token every time from one
client; so each worker keeps the claims of the last ``VERIFIED_TOKENS`` tokens it verified, keyed
by the token's exact text, and answers a token it holds without PyJWT while the token has not
expired. Only tokens that passed every check are kept (a claim that could pass later, ``nbf`` or
``iat`` in the future, fails the check and is not kept), and the look-up in the store that
follows still runs on every request, so a signed-out token is refused at once, cached or not.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import jwt
from sqlalchemy import Engine

from data import tokens as queries
from data.db import UNANSWERED, LoopReads, Unanswered, reader

_ALGORITHM = "HS256"
_AUDIENCE = "movierec"
# HS256 keys shorter than its 256-bit output weaken the signature (RFC 7518, section 3.2).
MIN_SECRET_LENGTH = 32
# Verified tokens a worker keeps the claims of: more than the clients one worker serves at once;
# each entry is a token's text (about 200 bytes) and its claims.
VERIFIED_TOKENS = 4096


@dataclass(frozen=True, slots=True)
class IssuedToken:
    token: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class SignedIn:
    """Who a valid token names, as the store says now."""

    user_id: int
    username: str
    # The version of their ranking inputs read with the token (``data.tokens.Holder``): as of
    # the request's start. Not part of who they are, so not compared.
    ranking_version: int | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class TokenClaims:
    user_id: int
    token_id: str
    expires_at: int  # Unix seconds


class RevokedTokens:
    """The store's list of signed-out tokens, shared by every worker."""

    def __init__(self, engine: Engine, loop_reads: LoopReads | None = None) -> None:
        self._engine = engine
        self._reads = reader(engine)
        self._loop_reads = loop_reads or LoopReads(engine)

    def holder(self, claims: TokenClaims) -> SignedIn | None:
        """The token's user when they exist and the token was not signed out, else None."""
        with self._reads.connect() as conn:
            return _signed_in(claims, queries.token_holder(claims.user_id, claims.token_id)(conn))

    async def holder_on_loop(self, claims: TokenClaims) -> SignedIn | Unanswered | None:
        """``holder``, read on the calling event loop (``data.db.LoopReads``); ``UNANSWERED``
        when the store could not answer at once: then ``holder`` in a thread."""
        holder = await self._loop_reads.read(queries.token_holder(claims.user_id, claims.token_id))
        return UNANSWERED if holder is UNANSWERED else _signed_in(claims, holder)

    def add(self, claims: TokenClaims) -> None:
        """Revoke a token, and forget the ones that have expired meanwhile."""
        with self._engine.begin() as conn:
            queries.revoke_token(conn, claims.token_id, claims.expires_at)
            queries.purge_expired(conn, int(time.time()))


def _signed_in(claims: TokenClaims, holder: queries.Holder | None) -> SignedIn | None:
    if holder is None:
        return None
    return SignedIn(claims.user_id, holder.username, holder.ranking_version)


class TokenSigner:
    def __init__(
        self,
        secret: str,
        ttl_seconds: int,
        revoked: RevokedTokens,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """``clock`` (Unix seconds) decides when a token whose claims are kept has expired;
        PyJWT reads the system clock for the tokens it checks."""
        if len(secret) < MIN_SECRET_LENGTH:
            raise ValueError(f"the token secret must be at least {MIN_SECRET_LENGTH} characters")
        self._secret = secret
        self._ttl = timedelta(seconds=ttl_seconds)
        self._revoked = revoked
        self._clock = clock
        # Token text -> its verified claims; read and written by both loops and the threads,
        # each a single dict operation.
        self._verified: dict[str, TokenClaims] = {}

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

    def claims(self, token: str) -> TokenClaims | None:
        """What a correctly signed, unexpired token says; None for anything else (no SQL)."""
        known = self._verified.get(token)
        if known is not None:
            # PyJWT's own rule: expired from the second ``exp`` names.
            return known if self._clock() < known.expires_at else None
        found = self._verify(token)
        if found is not None:
            if len(self._verified) >= VERIFIED_TOKENS:
                self._verified.clear()  # a burst of new clients: they are verified again
            self._verified[token] = found
        return found

    def _verify(self, token: str) -> TokenClaims | None:
        """``claims`` by PyJWT: the signature, the audience, the expiry, the claims required."""
        try:
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=[_ALGORITHM],
                audience=_AUDIENCE,
                options={"require": ["sub", "exp", "aud", "jti"]},
            )
            return TokenClaims(int(claims["sub"]), str(claims["jti"]), int(claims["exp"]))
        except (jwt.InvalidTokenError, ValueError, TypeError):
            return None

    def signed_in(self, token: str) -> SignedIn | None:
        """The existing user a valid, unexpired token names, unless it was signed out; else None."""
        claims = self.claims(token)
        return None if claims is None else self._revoked.holder(claims)

    async def signed_in_on_loop(self, token: str) -> SignedIn | TokenClaims | None:
        """``signed_in`` for a request on an event loop: the signature checked there (CPU
        only), the store's look-up read there too when the store answers at once
        (``RevokedTokens.holder_on_loop``); otherwise the token's claims, for ``holder`` in a
        thread."""
        claims = self.claims(token)
        if claims is None:
            return None
        found = await self._revoked.holder_on_loop(claims)
        return claims if found is UNANSWERED else found

    def holder(self, claims: TokenClaims) -> SignedIn | None:
        """``signed_in``'s look-up in the store, for claims ``claims`` already checked."""
        return self._revoked.holder(claims)

    def revoke(self, token: str) -> bool:
        """Sign a token out for good; False when it is not a valid token to begin with."""
        claims = self.claims(token)
        if claims is None:
            return False
        self._revoked.add(claims)
        return True
