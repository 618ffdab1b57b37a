"""The one exception type the ETL commands turn into a message and a non-zero exit code, and the
guard every command runs in."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError

from data.migrations import StoreError

log = logging.getLogger(__name__)


class EtlError(RuntimeError):
    """Bad input or an unusable source; the message names file, line and problem when known.

    Raised instead of letting a ``ValueError`` or ``KeyError`` escape, so that the command line
    prints one actionable line rather than a traceback.
    """

    def __init__(self, problem: str, *, path: Path | None = None, line: int | None = None):
        self.problem = problem
        self.path = path
        self.line = line
        where = "" if path is None else f"{path}:{line}: " if line is not None else f"{path}: "
        super().__init__(f"{where}{problem}")


def guarded(work: Callable[[], int]) -> int:
    """Run a command's ``work``; an error the user can act on (bad input, a missing or broken
    store, an unwritable folder, network trouble) becomes one log line and exit code 1."""
    try:
        return work()
    except (EtlError, StoreError) as exc:
        log.error("%s", exc)
    except SQLAlchemyError as exc:
        log.error("store error: %s", exc.__class__.__name__ + ": " + str(exc).splitlines()[0])
    except OSError as exc:
        log.error("%s", exc)
    return 1
