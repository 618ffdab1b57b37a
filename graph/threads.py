"""Where blocking work runs: SQL in one pool of threads, password hashing in a small one.

Both are plain executors whose threads live as long as the worker, shared by both event loops
(the main one and GraphQL's, ``graph.side_loop``). anyio's pool, used before, keeps one pool per
loop and lets a thread go after 10 s idle; under load a call often found no idle thread (the
last one had handed its result back but not yet queued itself as idle) and started a new one:
4 % of a worker's interpreter time went to starting threads (py-spy, ``--gil``, under wrk).

On SQLite the request path's hottest reads (a cached ranking's check, the token's look-up)
skip the trip when the store answers at once: ``data.db.LoopReads``.

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

T = TypeVar("T")
# anyio's default, which the blocking calls had before: enough for SQL reads waiting on a
# PostgreSQL server, few enough that their stacks stay small.
THREADS = 40
# ``BlockingCalls.run`` as a value: what DataLoaders take to reach the store off the event loop.
Run = Callable[..., Awaitable[Any]]


class BlockingCalls:
    def __init__(self, password_slots: int = 2, threads: int = THREADS) -> None:
        self._passwords = ThreadPoolExecutor(password_slots, thread_name_prefix="passwords")
        self._threads = ThreadPoolExecutor(threads, thread_name_prefix="blocking")

    async def run(self, fn: Callable[..., T], *args: object) -> T:
        """In a thread, in the caller's context (its request id). Abandoned on cancel: a request
        past its deadline answers at once, its call finishing in the thread unobserved (a write
        it was making may still commit)."""
        return await _in(self._threads, fn, args)

    async def run_abandonable(self, fn: Callable[..., T], *args: object) -> T:
        """Like ``run``: a cancelled caller (a timeout) returns at once, leaving the thread to
        finish alone, so a probe answers on time even when the store hangs."""
        return await _in(self._threads, fn, args)

    async def run_password_work(self, fn: Callable[..., T], *args: object) -> T:
        """On one of the password threads, in the caller's context (its request id). A caller
        cancelled while its call waits for a thread drops the call; one cancelled while its hash
        runs returns at once, and the thread stays busy until the hash is done, so there are
        never more hashes running than threads."""
        return await _in(self._passwords, fn, args)

    def shutdown(self) -> None:
        """Let the threads end once the calls they run are done; queued ones are dropped."""
        self._passwords.shutdown(wait=False, cancel_futures=True)
        self._threads.shutdown(wait=False, cancel_futures=True)


async def _in(executor: ThreadPoolExecutor, fn: Callable[..., T], args: tuple[object, ...]) -> T:
    context = contextvars.copy_context()
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(executor, partial(context.run, fn, *args))
