"""How every command runs: the errors it turns into one log line and exit code 1 instead of a
traceback, and where its result goes."""

from __future__ import annotations

import logging
from collections.abc import Callable

from sqlalchemy.exc import SQLAlchemyError

from data.migrations import StoreError
from etl.errors import EtlError

log = logging.getLogger(__name__)


class CommandError(RuntimeError):
    """A command cannot run as asked (a missing token, an empty store, unfittable ratings); the
    message says what to do about it."""


def guarded(work: Callable[[], int]) -> int:
    """Run a command's ``work``; an error the user can act on (bad input, a missing or broken
    store, an unwritable folder, network trouble) becomes one log line and exit code 1."""
    try:
        return work()
    except (CommandError, EtlError, StoreError) as exc:
        log.error("%s", exc)
    except SQLAlchemyError as exc:
        log.error("store error: %s", exc.__class__.__name__ + ": " + str(exc).splitlines()[0])
    except OSError as exc:
        log.error("%s", exc)
    return 1


def print_lines(lines: list[str]) -> None:
    """A command's result on stdout, where a script reads it; the log goes to stderr."""
    print("\n".join(lines), flush=True)
