"""Sign-up, login and logout: username rules, password hashing, tokens, the failed-login limit.

These methods hash or verify passwords (argon2, tens of milliseconds by design) and so are
synchronous; the HTTP layer runs them in a worker thread so the event loop keeps serving.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import Engine

from data import users as queries
from data.passwords import DUMMY_HASH, hash_password, verify_password
from data.users import UsernameTakenError, UserRow
from graph import metrics
from graph.services.errors import InvalidInputError
from graph.services.outcomes import Refusal, Rejected
from graph.services.ratelimit import FailureWindow
from graph.services.tokens import IssuedToken, TokenSigner

MAX_USERNAME_LENGTH = 30
USERNAME_PATTERN = re.compile(rf"[a-z0-9_]{{3,{MAX_USERNAME_LENGTH}}}")
MIN_PASSWORD_LENGTH = 8
# Argon2 hashes whatever it is given; a cap keeps a 10 MB "password" from costing 10 MB of work.
MAX_PASSWORD_LENGTH = 256


@dataclass(frozen=True, slots=True)
class Authenticated:
    user: UserRow
    token: IssuedToken


class Accounts:
    def __init__(
        self,
        engine: Engine,
        signer: TokenSigner,
        *,
        per_username: FailureWindow,
        per_address: FailureWindow,
    ) -> None:
        self._engine = engine
        self.signer = signer
        self._per_username = per_username
        self._per_address = per_address

    def login(self, username: str, password: str, client: str) -> Authenticated | Rejected:
        """Check a password in constant time, whether or not the user exists."""
        name_key = username.lower()
        wait = max(self._per_username.retry_after(name_key), self._per_address.retry_after(client))
        if wait:
            metrics.RATE_LIMITED.labels("login").inc()
            return Rejected(
                Refusal.TOO_MANY_ATTEMPTS,
                f"too many failed logins; try again in {wait} seconds",
                retry_after_seconds=wait,
            )
        user = None
        matches = False
        # No account has a longer name or password, so oversized input fails without hashing.
        if len(username) <= MAX_USERNAME_LENGTH and len(password) <= MAX_PASSWORD_LENGTH:
            with self._engine.connect() as conn:
                user = queries.user_by_username(conn, username)
            matches = verify_password(user.password_hash if user else DUMMY_HASH, password)
        if user is None or not matches:
            self._per_username.record_failure(name_key)
            self._per_address.record_failure(client)
            metrics.LOGIN_FAILURES.inc()
            return Rejected(Refusal.INVALID_CREDENTIALS, "unknown username or wrong password")
        self._per_username.reset(name_key)
        return Authenticated(user, self.signer.issue(user.id))

    def sign_up(self, username: str, password: str) -> Authenticated | Rejected:
        """Create an account; a taken name (any case) is reported before its spelling rules."""
        taken = Rejected(Refusal.USERNAME_TAKEN, f"the username {username[:40]!r} is taken")
        if len(username) <= MAX_USERNAME_LENGTH:
            with self._engine.connect() as conn:
                if queries.user_by_username(conn, username) is not None:
                    return taken
        if not USERNAME_PATTERN.fullmatch(username):
            return Rejected(
                Refusal.INVALID_USERNAME,
                "a username is 3 to 30 characters: lowercase letters, digits and underscores",
            )
        if len(password) < MIN_PASSWORD_LENGTH:
            return Rejected(
                Refusal.PASSWORD_TOO_SHORT,
                f"a password needs at least {MIN_PASSWORD_LENGTH} characters",
            )
        if len(password) > MAX_PASSWORD_LENGTH:
            # Not a union member of its own: only a hostile client sends this.
            raise InvalidInputError(f"a password is at most {MAX_PASSWORD_LENGTH} characters")
        password_hash = hash_password(password)
        try:
            with self._engine.begin() as conn:
                user = queries.create_user(conn, username, password_hash)
        except UsernameTakenError:  # a concurrent sign-up won the unique index
            return taken
        return Authenticated(user, self.signer.issue(user.id))

    def logout(self, token: str) -> bool:
        """Revoke the token the request came with; other tokens of the user stay valid."""
        return self.signer.revoke(token)

    def user(self, user_id: int) -> UserRow | None:
        with self._engine.connect() as conn:
            return queries.user_by_id(conn, user_id)
