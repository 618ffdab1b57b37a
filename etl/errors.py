"""The one exception type of the ingest: bad input or an unusable source."""

from __future__ import annotations

from pathlib import Path


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
