"""Where blocking work runs: SQL in the shared thread pool, password hashing in a small one.

Argon2 takes tens of milliseconds and 19 MiB per call by design; giving it its own two threads
means a burst of logins queues behind itself instead of taking every thread the reads need. The
two threads are a plain executor, not a limiter bound to one event loop: GraphQL's ``login`` and
``signUp`` run on GraphQL's loop (``graph.side_loop``), legacy ``/login`` on the main one, and
both share the same two slots.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any, TypeVar

import anyio
import anyio.to_thread

T = TypeVar("T")
# ``BlockingCalls.run`` as a value: what DataLoaders take to reach the store off the event loop.
Run = Callable[..., Awaitable[Any]]


class BlockingCalls:
    def __init__(self, password_slots: int = 2) -> None:
        self._passwords = ThreadPoolExecutor(password_slots, thread_name_prefix="passwords")

    async def run(self, fn: Callable[..., T], *args: object) -> T:
        """Abandoned on cancel: a request past its deadline answers at once, its call finishing
        in the thread unobserved (a write it was making may still commit)."""
        return await anyio.to_thread.run_sync(fn, *args, abandon_on_cancel=True)

    async def run_abandonable(self, fn: Callable[..., T], *args: object) -> T:
        """Like ``run``, but a cancelled caller (a timeout) returns at once, leaving the thread
        to finish alone: a probe must answer on time even when the store hangs."""
        return await anyio.to_thread.run_sync(fn, *args, abandon_on_cancel=True)

    async def run_password_work(self, fn: Callable[..., T], *args: object) -> T:
        """On one of the password threads, in the caller's context (its request id). A caller
        cancelled while its call waits for a thread drops the call; one cancelled while its hash
        runs returns at once, and the thread stays busy until the hash is done, so there are
        never more hashes running than threads."""
        context = contextvars.copy_context()
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._passwords, partial(context.run, fn, *args))

    def shutdown(self) -> None:
        """Let the password threads end once their queued calls are done."""
        self._passwords.shutdown(wait=False, cancel_futures=True)
