"""GraphQL's own event loop, in a thread of each worker, so the worker's main loop stays free.

Executing a GraphQL request is CPU-bound Python: graphql-core completes each field of each
object, Strawberry wraps it, the answer is encoded; a heavy request the budget allows holds the
interpreter for tens of milliseconds at a stretch, hundreds of milliseconds in all. On the loop
that also answers ``/healthz``, ``/readyz``, ``/metrics`` and the legacy routes, every such
stretch was a stretch those waited (``bench/attack.py``: ``/healthz`` p99 0.8 s under attack on
a loaded machine, against about 20 ms with no attack). Here the main loop only reads the request
body and hands the rest of the request (JSON decoding, parse, validation, execution, encoding)
to this loop's thread: a probe then waits at most for the interpreter's switch interval
(``SWITCH_INTERVAL``), not for a whole stretch. A cheap request seen before (a body whose
request cost little: ``graph.router``) stays on the main loop, as a legacy request does.

Everything the request creates lives on this loop: its DataLoaders (bound to the loop of their
first ``load``); its trips to threads go to ``graph.threads``' pools, shared by both loops. The
caller's context variables (the request id) follow the request here; cancelling the caller (the
request's deadline, a client gone) cancels its task here.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import sys
import threading
import weakref
from collections.abc import Coroutine
from typing import Any, TypeVar

import uvloop

T = TypeVar("T")

# How long a thread holding the interpreter keeps it while another asks (Python's default is
# 5 ms): a probe arriving while this loop executes waits up to this long, several times over
# (each wake-up of the main loop asks again). bench/attack.py, /healthz p99 under attack, median
# of 3 runs at load 18-31: 112 ms (86-119) at 2 ms, 64 ms (34-109) at 0.5 ms.
SWITCH_INTERVAL = 0.0005


class SideLoop:
    """An event loop in a daemon thread, started on first use, stopped by ``stop`` (the app's
    shutdown) or when this object is collected."""

    def __init__(self, name: str = "graphql-loop") -> None:
        self._name = name
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock = threading.Lock()

    def _started(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None or self._loop.is_closed():
                sys.setswitchinterval(min(sys.getswitchinterval(), SWITCH_INTERVAL))
                loop = uvloop.new_event_loop()  # the main loop's kind (graph.server)
                thread = threading.Thread(target=_serve, args=(loop,), name=self._name, daemon=True)
                thread.start()
                weakref.finalize(self, _stop, loop, thread)
                self._loop = loop
            return self._loop

    def stop(self) -> None:
        with self._lock:
            loop, self._loop = self._loop, None
        if loop is not None:
            with contextlib.suppress(RuntimeError):  # closed meanwhile: stopped already
                loop.call_soon_threadsafe(loop.stop)

    async def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Await ``coroutine`` run on this loop, in a copy of the caller's context.

        Cancelling the caller cancels the task there and returns at once: the caller never
        waits for a task that ignores its cancellation.
        """
        loop = self._started()
        caller = asyncio.get_running_loop()
        answer: asyncio.Future[T] = caller.create_future()
        context = contextvars.copy_context()
        tasks: list[asyncio.Task[T]] = []

        def settle(task: asyncio.Task[T]) -> None:  # on the caller's loop
            if answer.done():
                return
            if task.cancelled():
                answer.cancel()
            elif (error := task.exception()) is not None:
                answer.set_exception(error)
            else:
                answer.set_result(task.result())

        def start() -> None:  # on this loop
            task = loop.create_task(coroutine, context=context)
            tasks.append(task)
            task.add_done_callback(lambda done: caller.call_soon_threadsafe(settle, done))

        loop.call_soon_threadsafe(start)
        try:
            return await answer
        except asyncio.CancelledError:
            # Queued after ``start`` on the same loop, so the task exists when this runs.
            loop.call_soon_threadsafe(lambda: tasks[0].cancel())
            raise


def _serve(loop: asyncio.AbstractEventLoop) -> None:
    asyncio.set_event_loop(loop)
    try:
        loop.run_forever()
    finally:
        try:
            _cancel_left_tasks(loop)
            loop.run_until_complete(loop.shutdown_asyncgens())
        finally:
            loop.close()


def _cancel_left_tasks(loop: asyncio.AbstractEventLoop) -> None:
    """Cancel the tasks the loop still holds and let them unwind, as ``asyncio.run`` does.

    Requests still running when the app stops, and what graphql-core settles in the background
    (a failed field's siblings): closing the loop over them would drop them, and a coroutine
    dropped before its first step warns "never awaited" when the garbage collector reaches it,
    inside whatever code runs then (a CI run failed on that warning in the fuzz test).
    """
    while tasks := asyncio.all_tasks(loop):  # unwinding may start more
        for task in tasks:
            task.cancel()
        loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))


def _stop(loop: asyncio.AbstractEventLoop, thread: threading.Thread) -> None:
    with contextlib.suppress(RuntimeError):  # closed meanwhile: stopped already
        loop.call_soon_threadsafe(loop.stop)
    if thread is not threading.current_thread():
        thread.join(timeout=5)
