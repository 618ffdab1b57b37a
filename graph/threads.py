"""Where blocking work runs: SQL in the shared thread pool, password hashing in a small one.

Argon2 takes tens of milliseconds and 19 MiB per call by design; giving it its own two slots
means a burst of logins queues behind itself instead of taking every thread the reads need.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import anyio
import anyio.to_thread

T = TypeVar("T")
# ``BlockingCalls.run`` as a value: what DataLoaders take to reach the store off the event loop.
Run = Callable[..., Awaitable[Any]]


class BlockingCalls:
    def __init__(self, password_slots: int = 2) -> None:
        self._password_slots = password_slots
        self._password_limiter: anyio.CapacityLimiter | None = None

    async def run(self, fn: Callable[..., T], *args: object) -> T:
        """Abandoned on cancel: a request past its deadline answers at once, its call finishing
        in the thread unobserved (a write it was making may still commit)."""
        return await anyio.to_thread.run_sync(fn, *args, abandon_on_cancel=True)

    async def run_abandonable(self, fn: Callable[..., T], *args: object) -> T:
        """Like ``run``, but a cancelled caller (a timeout) returns at once, leaving the thread
        to finish alone: a probe must answer on time even when the store hangs."""
        return await anyio.to_thread.run_sync(fn, *args, abandon_on_cancel=True)

    async def run_password_work(self, fn: Callable[..., T], *args: object) -> T:
        """Waited for even on cancel, so a slot is never freed while its hash still runs."""
        if self._password_limiter is None:  # created on first use, inside the event loop
            self._password_limiter = anyio.CapacityLimiter(self._password_slots)
        return await anyio.to_thread.run_sync(fn, *args, limiter=self._password_limiter)
