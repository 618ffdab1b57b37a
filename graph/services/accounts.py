"""Sign-up, login and logout: username rules, password hashing, tokens, the failed-login limit.

These methods hash or verify passwords (argon2, tens of milliseconds by design) and so are
synchronous; the HTTP layer runs them in a worker thread so the event loop keeps serving.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import Engine

from data import users as queries
from data.db import reader
from data.passwords import DUMMY_HASH, hash_password, verify_password
from data.users import UsernameTakenError, UserRow
from graph import metrics
from graph.services.errors import InvalidInputError
from graph.services.outcomes import Refusal, Rejected
from graph.services.ratelimit import AttemptLimits, Limit
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
        limits: AttemptLimits,
        logins_per_username: Limit,
        logins_per_address: Limit,
        signups_per_address: Limit,
    ) -> None:
        self._engine = engine
        self._reads = reader(engine)
        self.signer = signer
        self._limits = limits
        self._per_username = logins_per_username
        self._per_address = logins_per_address
        self._signups = signups_per_address

    def login(self, username: str, password: str, client: str) -> Authenticated | Rejected:
        """Check a password in constant time, whether or not the user exists.

        No account has a longer name or password, so oversized input fails first: before the
        failed-login windows see it (a 20 MB username would otherwise become a key), the store is
        asked or anything is hashed. Otherwise the attempt is counted before the password is
        checked (a burst cannot overshoot the limit) and uncounted when it succeeds.
        """
        if len(username) > MAX_USERNAME_LENGTH or len(password) > MAX_PASSWORD_LENGTH:
            return Rejected(Refusal.INVALID_CREDENTIALS, "unknown username or wrong password")
        wait = self._limits.take(
            (self._per_address, client), (self._per_username, username.lower())
        )
        if wait:
            return _too_many("login", "failed logins", wait)
        with self._reads.connect() as conn:
            user = queries.user_by_username(conn, username)
        matches = verify_password(user.password_hash if user else DUMMY_HASH, password)
        if user is None or not matches:
            metrics.LOGIN_FAILURES.inc()
            return Rejected(Refusal.INVALID_CREDENTIALS, "unknown username or wrong password")
        self._limits.clear(self._per_username, username.lower())  # short: an account's name
        self._limits.give_back(self._per_address, client)
        return Authenticated(user, self.signer.issue(user.id))

    def sign_up(self, username: str, password: str, client: str) -> Authenticated | Rejected:
        """Create an account; a taken name (any case) is reported before its spelling rules.

        Every attempt counts against the address's sign-up limit, taken names included: that
        caps both account creation and probing which names exist (README, "enumeration").
        """
        wait = self._limits.take((self._signups, client))
        if wait:
            return _too_many("signup", "sign-ups from this address", wait)
        taken = Rejected(Refusal.USERNAME_TAKEN, f"the username {username[:40]!r} is taken")
        if len(username) <= MAX_USERNAME_LENGTH:
            with self._reads.connect() as conn:
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
        with self._reads.connect() as conn:
            return queries.user_by_id(conn, user_id)


def _too_many(limit: str, what: str, wait: int) -> Rejected:
    metrics.RATE_LIMITED.labels(limit).inc()
    return Rejected(
        Refusal.TOO_MANY_ATTEMPTS,
        f"too many {what}; try again in {wait} seconds",
        retry_after_seconds=wait,
    )
