"""``python -m data.migrations "what changed"`` (``make migration``): the next revision.

Alembic autogenerates a revision by comparing a database at head with ``data/schema.py``; this
builds that database in a temporary SQLite file, so a developer needs no store and no
``alembic.ini``. Review the file it writes: autogenerate cannot see renames or data moves.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from alembic import command
from sqlalchemy import create_engine

from data.migrations import Found, config, scripts, upgrade


def new_revision(message: str) -> None:
    revision_ids = [int(script.revision) for script in scripts().walk_revisions()]
    with tempfile.TemporaryDirectory() as folder:
        engine = create_engine(f"sqlite:///{Path(folder) / 'head.sqlite3'}")
        try:
            with engine.begin() as conn:
                upgrade(conn, Found(None))
                command.revision(
                    config(conn),
                    message=message,
                    autogenerate=True,
                    rev_id=f"{max(revision_ids, default=0) + 1:04d}",
                )
        finally:
            engine.dispose()


if __name__ == "__main__":
    if len(sys.argv) != 2 or not sys.argv[1].strip():
        sys.exit('usage: python -m data.migrations "what the revision changes"')
    new_revision(sys.argv[1])
