"""Alembic's entry point for every run: migrates the connection the caller put in the config.

There is no URL here and no offline (``--sql``) mode: the store is always migrated live, in the
transaction of ``data.migrations.upgrade``. ``render_as_batch`` makes autogenerate write SQLite's
copy-and-move ALTERs, which PostgreSQL runs as plain ALTERs. ``transactional_ddl`` is true on
both dialects because the caller's transaction wraps the DDL too (on SQLite it issues BEGIN).
"""

from __future__ import annotations

from alembic import context

from data.schema import metadata


def run() -> None:
    connection = context.config.attributes.get("connection")
    if connection is None or context.is_offline_mode():
        raise RuntimeError("movierec migrates a live connection: use data.migrations.upgrade")
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=True,
        transactional_ddl=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run()
