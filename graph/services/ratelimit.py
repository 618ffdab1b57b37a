"""Sliding-window limit on failed logins, per username and per client address.

In-process: with several workers each keeps its own window, so the effective limit is up to
``workers`` times the configured one. A shared store (Redis, a table) is the growth path.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable

# Past this many tracked keys, a failure first drops every key whose window has emptied.
_SWEEP_AT = 10_000


class FailureWindow:
    def __init__(
        self,
        max_failures: int,
        window_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._max = max_failures
        self._window = window_seconds
        self._clock = clock
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def retry_after(self, key: str) -> int:
        """Seconds until ``key`` may try again; 0 when it may try now."""
        with self._lock:
            recent = self._recent(key)
            if len(recent) < self._max:
                return 0
            return max(1, math.ceil(recent[0] + self._window - self._clock()))

    def record_failure(self, key: str) -> None:
        with self._lock:
            if len(self._failures) >= _SWEEP_AT:
                for stale in list(self._failures):
                    self._recent(stale)
            recent = self._recent(key)
            recent.append(self._clock())
            self._failures[key] = recent

    def reset(self, key: str) -> None:
        with self._lock:
            self._failures.pop(key, None)

    def _recent(self, key: str) -> deque[float]:
        """The key's failures inside the window; keys with none are forgotten (bounded memory)."""
        recent = self._failures.get(key, deque())
        cutoff = self._clock() - self._window
        while recent and recent[0] <= cutoff:
            recent.popleft()
        if not recent:
            self._failures.pop(key, None)
        return recent
