"""Where the files graph/ serves live: ``graph/web``, shipped as package data.

Found through ``importlib.resources`` rather than a path computed from ``__file__`` or the
project's layout, so an installed wheel serves the same files as a checkout, whatever the
current folder. The server hands these folders to Starlette as paths, so the package must be
installed unpacked (pip always does; a zip import is refused here with a message).
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path


def packaged_folder(*parts: str) -> Path:
    """``graph/web/<parts>`` as a path on the file system."""
    folder = files("graph").joinpath("web", *parts)
    if not isinstance(folder, Path):
        raise RuntimeError(f"{folder} is not on the file system; install movierec unpacked")
    return folder


def web_app_dir() -> Path:
    """The browser app served at /."""
    return packaged_folder()


def graphiql_dir() -> Path:
    """GraphiQL's vendored scripts and styles (versions and checksums in its README)."""
    return packaged_folder("vendor", "graphiql")
