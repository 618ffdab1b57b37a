"""For tests that run a real `movierec serve`: a port to give it, waiting for a state, and
stopping it with every worker it started.

Every such test polls the live server for the state it needs (healthy, ready, both workers on
a model) with a deadline, and fails at once, with the server's log, when the process dies.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from contextlib import suppress
from typing import Any

import httpx
import pytest


def free_port() -> int:
    """A port nothing listens on now (the caller retries or fails clearly if it is taken)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for(
    process: subprocess.Popen[Any],
    reached: Callable[[], bool],
    *,
    timeout: float,
    what: str,
    log: Callable[[], str],
    interval: float = 0.2,
) -> None:
    """Poll ``reached`` until true; fail with ``log()`` if the server exits or time runs out.

    A refused or dropped connection is the server still starting, not a failure.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"movierec serve exited with {process.returncode}:\n{log()}")
        try:
            if reached():
                return
        except httpx.TransportError:
            pass
        time.sleep(interval)
    pytest.fail(f"{what} after {timeout} s:\n{log()}")


def stop(process: subprocess.Popen[Any], *, grace: float = 15) -> None:
    """Stop a server started with ``start_new_session=True`` and every process it started.

    SIGTERM lets the master stop its workers; whatever is still alive after ``grace`` seconds,
    or after the master is gone, gets SIGKILL through the process group. SIGKILL to the master
    alone orphaned its workers once under load: they kept their memory after the test ended.
    """
    if process.poll() is None:
        process.terminate()
        with suppress(subprocess.TimeoutExpired):
            process.wait(timeout=grace)
    with suppress(ProcessLookupError):  # an empty group: every worker has exited
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()
