"""Attempt limits (failed logins, sign-ups) kept in the store, so they hold across workers.

Each attempt is counted before the work it guards, by the same statement that returns the new
count (``data.ratelimits``): a burst of concurrent attempts lets exactly ``max_attempts``
through, whatever the number of workers or threads. A window opens with a key's first attempt
and closes ``window_seconds`` later; closed windows are purged by the next attempt, so the table
holds at most the keys seen in the last window. Keys are ``<limit>:<value>`` with the value at
most ``MAX_VALUE_LENGTH`` characters: a 20 MB username must never become a key.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Engine

from data import ratelimits as queries

# Longer than any username (30) and any textual IP address (45, IPv6 with IPv4 tail).
MAX_VALUE_LENGTH = 64


@dataclass(frozen=True, slots=True)
class Limit:
    """At most ``max_attempts`` per ``window_seconds`` for each value (a username, an address)."""

    name: str
    max_attempts: int
    window_seconds: int

    def key(self, value: str) -> str:
        if len(value) > MAX_VALUE_LENGTH:
            raise ValueError(f"a {self.name} key is at most {MAX_VALUE_LENGTH} characters")
        return f"{self.name}:{value}"


class AttemptLimits:
    def __init__(self, engine: Engine, clock: Callable[[], float] = time.time) -> None:
        self._engine = engine
        self._clock = clock

    def take(self, *attempts: tuple[Limit, str]) -> int:
        """Count one attempt under each (limit, value), in one transaction; the seconds to wait
        when any of them is over its limit, else 0. A refused attempt still counts (it cannot
        lengthen the window, which is fixed when it opens)."""
        now = int(self._clock())
        wait = 0
        with self._engine.begin() as conn:
            queries.purge_expired(conn, now)
            for limit, value in attempts:
                count, expires_at = queries.count_attempt(
                    conn, limit.key(value), now, limit.window_seconds
                )
                if count > limit.max_attempts:
                    wait = max(wait, expires_at - now, 1)
        return wait

    def give_back(self, limit: Limit, value: str) -> None:
        """Uncount one attempt: it succeeded, and the limit is about failures."""
        with self._engine.begin() as conn:
            queries.uncount_attempt(conn, limit.key(value))

    def clear(self, limit: Limit, value: str) -> None:
        """Forget every attempt of ``value`` in the window (a user who got their password right)."""
        with self._engine.begin() as conn:
            queries.forget(conn, limit.key(value))
