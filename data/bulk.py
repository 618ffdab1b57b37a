"""The ETL's bulk path: millions of rows merged into a table inside the caller's transaction,
with the same result as ``catalog.merge_rows`` row by row, at a fraction of the cost.

- SQLite: one prepared ``INSERT ... ON CONFLICT`` statement with many rows in its ``VALUES``,
  run by the driver's ``executemany`` over the chunk's values laid end to end (SQLAlchemy's
  per-row parameter handling cost more than SQLite's insert, and one row per statement cost
  twice the CPU of 249 per statement: the statement's run is per statement, not per row), with a
  larger page cache for the load.
- PostgreSQL: ``COPY ... FROM STDIN`` in binary format (psycopg 3's ``cursor.copy``). Into an
  empty table the rows are copied straight in; into one that has rows they are copied into a
  temporary table that ``INSERT ... SELECT ... ON CONFLICT`` then merges.
- Into an empty table (a first load) the secondary indexes, and on PostgreSQL the foreign keys,
  are dropped first and built again at the end, from the database's own definitions: building
  an index over sorted data costs a fraction of keeping it current row by row, and a foreign
  key added to a full table is checked in one join instead of one look-up per row. Both
  databases run DDL inside the transaction, so a failed load rolls the drops back too.
- Into an empty table whose merge can rebuild what its triggers maintain
  (``Merge.rebuild_derived``: the ratings' ``movie_rating_stats``), the triggers are dropped as
  well, read from the database's own definitions; at the end the derived table is rebuilt in one
  ``INSERT ... SELECT ... GROUP BY`` and the triggers created again, in the same transaction.
  Firing per row, they would about double a 25 M-rating load. A load into a table that has rows
  keeps its triggers: they keep the derived rows exact as rows are merged.

Rows are tuples in the order of ``columns``; the caller writes them in chunks (between chunks
it may run other statements, such as creating the users the next chunk refers to).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from itertools import chain
from typing import Any

from sqlalchemy import Column, Connection, MetaData, Table, TextClause, bindparam, select, text
from sqlalchemy.dialects import postgresql

from data.catalog import Merge, insert_on_conflict

# The load's page cache on SQLite, in KiB (SQLite's negative form): big enough for the upper
# levels of every index of a 25 M-row table, small against the 4 GB the ETL may use. Building
# an index, SQLite sorts in memory up to the same bound before it spills to temporary files,
# so the index builds get more (the ratings' columns are no longer in memory by then):
# one index of 25 M ratings is about 0.5 GB of sort records.
SQLITE_CACHE_KIB = 256 * 1024
SQLITE_INDEX_CACHE_KIB = 1024 * 1024
# Bound parameters one SQLite statement may take in every SQLite version (3.32 raised it to
# 32,766; older builds stop at 999); a multi-row insert takes this many values at most.
SQLITE_MAX_PARAMETERS = 999
# PostgreSQL's memory for building indexes and checking foreign keys, for this transaction only.
POSTGRES_MAINTENANCE_MEMORY = "256MB"

_SQLITE_SECONDARY_INDEXES = text(
    "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = :table "
    "AND sql IS NOT NULL"
)
_POSTGRES_SECONDARY_INDEXES = text(
    "SELECT c.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i "
    "JOIN pg_class c ON c.oid = i.indexrelid "
    "WHERE i.indrelid = CAST(:table AS regclass) AND NOT i.indisunique ORDER BY c.relname"
)
_POSTGRES_FOREIGN_KEYS = text(
    "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
    "WHERE conrelid = CAST(:table AS regclass) AND contype = 'f' ORDER BY conname"
)
_SQLITE_TRIGGERS = text(
    "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = :table ORDER BY name"
)
_POSTGRES_TRIGGERS = text(
    "SELECT tgname, pg_get_triggerdef(oid) FROM pg_trigger "
    "WHERE tgrelid = CAST(:table AS regclass) AND NOT tgisinternal ORDER BY tgname"
)
_POSTGRES_COLUMN_TYPE = text(
    "SELECT atttypid FROM pg_attribute WHERE attrelid = CAST(:table AS regclass) "
    "AND attname = :column"
)

Rows = Sequence[tuple[Any, ...]]


class BulkMerge:
    """Merges chunks of rows into ``merge.table``: ``write`` each chunk, then ``finish`` once
    (it rebuilds what was dropped). Use inside a transaction; an error before ``finish`` needs
    nothing but the transaction's rollback."""

    def __init__(self, conn: Connection, merge: Merge, columns: Sequence[str]) -> None:
        self._conn = conn
        self._merge = merge
        self._columns = tuple(columns)
        self._dialect = conn.dialect.name
        self._quote = conn.dialect.identifier_preparer.quote
        insert_on_conflict(conn, merge.table)  # refuses a dialect without a bulk path
        driver: Any = conn.connection.driver_connection
        if self._dialect == "sqlite" and not driver.in_transaction:
            # Python's sqlite3 opens a transaction only before INSERT, UPDATE or DELETE: the
            # DROP INDEX below would otherwise be committed on its own, and survive a rollback.
            conn.exec_driver_sql("BEGIN")
        self._empty = conn.execute(select(merge.table).limit(1)).first() is None
        self._rebuild: list[str] = self._drop_deferred() if self._empty else []
        self._triggers: list[str] = self._drop_triggers() if self._empty else []
        self._staging: Table | None = None
        self._types: list[int] = []
        if self._dialect == "sqlite":
            conn.exec_driver_sql(f"PRAGMA cache_size = -{SQLITE_CACHE_KIB}")
            # SQLite's sorter may use helper threads for the index builds at the end.
            conn.exec_driver_sql(f"PRAGMA threads = {min(os.cpu_count() or 1, 4)}")
            self._batch = max(1, SQLITE_MAX_PARAMETERS // len(self._columns))
            self._insert = self._sqlite_insert(1)
            self._insert_batch = self._sqlite_insert(self._batch)
        elif self._dialect == "postgresql" and not self._empty:
            self._staging = self._create_staging()

    def write(self, rows: Rows) -> None:
        if not rows:
            return
        if self._dialect == "sqlite":
            whole = len(rows) - len(rows) % self._batch
            if whole:
                self._conn.exec_driver_sql(self._insert_batch, list(self._batches(rows, whole)))
            if whole < len(rows):
                self._conn.exec_driver_sql(self._insert, list(rows[whole:]))
        else:
            self._copy(self._staging if self._staging is not None else self._merge.table, rows)

    def finish(self) -> None:
        """Merge what was staged and build again the indexes and keys dropped at the start."""
        if self._staging is not None:
            columns = [self._staging.c[name] for name in self._columns]
            insert = postgresql.insert(self._merge.table).from_select(
                list(self._columns), select(*columns)
            )
            self._conn.execute(self._merge.on_conflict(insert))
            # Dropped now, not at the commit: the same table may be merged again in this
            # transaction (the ETL's demo accounts: once for the ratings, once for the tags).
            self._staging.drop(self._conn)
            self._staging = None
        if self._empty and self._dialect == "postgresql":
            # A table filled in this transaction has no statistics yet (autovacuum sees it only
            # after the commit), and without them the planner takes a user's ratings for a
            # crowd: the rebuild below would scan every rating instead of probing the key once
            # per user (7.4 against 3 s at 25 M). A sample: about 1 s at 25 M.
            self._conn.exec_driver_sql(f"ANALYZE {self._quote(self._merge.table.name)}")
        if self._triggers and self._merge.rebuild_derived is not None:
            # Before the indexes: it then reads a table with no secondary index to maintain.
            self._merge.rebuild_derived(self._conn)
        if self._rebuild and self._dialect == "postgresql":
            self._conn.exec_driver_sql(
                f"SET LOCAL maintenance_work_mem = '{POSTGRES_MAINTENANCE_MEMORY}'"
            )
        elif self._rebuild:
            self._conn.exec_driver_sql(f"PRAGMA cache_size = -{SQLITE_INDEX_CACHE_KIB}")
        for statement in self._rebuild:
            self._conn.exec_driver_sql(statement)
        self._rebuild = []
        for statement in self._triggers:
            self._conn.exec_driver_sql(statement)
        self._triggers = []

    def _drop_triggers(self) -> list[str]:
        """Drop the empty table's triggers when the merge says how to rebuild what they keep
        (``Merge.rebuild_derived``); returns the statements that create them again. Without
        that, they stay and fire for every row: dropping them would leave their work undone."""
        if self._merge.rebuild_derived is None:
            return []
        table = self._merge.table.name
        query = _SQLITE_TRIGGERS if self._dialect == "sqlite" else _POSTGRES_TRIGGERS
        found = _pairs(self._conn, query, table)
        on_table = "" if self._dialect == "sqlite" else f" ON {self._quote(table)}"
        for name, _ in found:
            self._conn.exec_driver_sql(f"DROP TRIGGER {self._quote(name)}{on_table}")
        return [definition for _, definition in found]

    def _sqlite_insert(self, rows: int) -> str:
        """The merge's statement with ``rows`` rows of ``VALUES``, parameters by position."""
        insert = insert_on_conflict(self._conn, self._merge.table)
        names = [f"{column}_{row}" for row in range(rows) for column in self._columns]
        values: list[dict[str, Any]] = [
            {column: bindparam(f"{column}_{row}") for column in self._columns}
            for row in range(rows)
        ]
        statement = self._merge.on_conflict(insert.values(values if rows > 1 else values[0]))
        compiled = statement.compile(dialect=self._conn.dialect)
        if list(compiled.positiontup or ()) != names:
            raise ValueError(f"columns {self._columns} are not in {self._merge.table.name}'s order")
        return str(compiled)

    def _batches(self, rows: Rows, whole: int) -> Iterator[tuple[Any, ...]]:
        """The first ``whole`` rows, ``self._batch`` at a time, each batch's values end to end."""
        for start in range(0, whole, self._batch):
            yield tuple(chain.from_iterable(rows[start : start + self._batch]))

    def _drop_deferred(self) -> list[str]:
        """Drop the empty table's secondary indexes (and foreign keys on PostgreSQL); returns
        the statements that build them again. Unique indexes stay: they are what ``ON
        CONFLICT`` names, and they keep the input honest."""
        table = self._merge.table.name
        quoted = self._quote(table)
        if self._dialect == "sqlite":
            unique = {
                row[1]
                for row in self._conn.exec_driver_sql(f"PRAGMA index_list({quoted})")
                if row[2]
            }
            found = self._conn.execute(_SQLITE_SECONDARY_INDEXES, {"table": table}).all()
            indexes = [(str(name), str(sql)) for name, sql in found if name not in unique]
            keys: list[tuple[str, str]] = []
        else:
            indexes = _pairs(self._conn, _POSTGRES_SECONDARY_INDEXES, table)
            keys = _pairs(self._conn, _POSTGRES_FOREIGN_KEYS, table)
        for name, _ in keys:
            self._conn.exec_driver_sql(f"ALTER TABLE {quoted} DROP CONSTRAINT {self._quote(name)}")
        for name, _ in indexes:
            self._conn.exec_driver_sql(f"DROP INDEX {self._quote(name)}")
        return [sql for _, sql in indexes] + [
            f"ALTER TABLE {quoted} ADD CONSTRAINT {self._quote(name)} {definition}"
            for name, definition in keys
        ]

    def _create_staging(self) -> Table:
        """A temporary table of the load's columns, dropped at commit or rollback."""
        staging = Table(
            f"_load_{self._merge.table.name}",
            MetaData(),
            *(Column(name, self._merge.table.c[name].type) for name in self._columns),
            prefixes=["TEMPORARY"],
            postgresql_on_commit="DROP",
        )
        staging.create(self._conn)
        return staging

    def _copy(self, table: Table, rows: Rows) -> None:
        """One binary COPY of ``rows`` into ``table``; the column types come from the database,
        since binary COPY needs exactly the stored types."""
        if not self._types:
            self._types = [
                int(
                    self._conn.execute(
                        _POSTGRES_COLUMN_TYPE, {"table": self._quote(table.name), "column": name}
                    ).scalar_one()
                )
                for name in self._columns
            ]
        columns = ", ".join(self._quote(name) for name in self._columns)
        driver: Any = self._conn.connection.driver_connection
        with (
            driver.cursor() as cursor,
            cursor.copy(
                f"COPY {self._quote(table.name)} ({columns}) FROM STDIN (FORMAT BINARY)"
            ) as copy,
        ):
            copy.set_types(self._types)
            for row in rows:
                copy.write_row(row)


def merge_all(conn: Connection, merge: Merge, columns: Sequence[str], rows: Rows) -> None:
    """Merge ``rows`` in one go: the bulk path for a load's smaller tables (the movies and
    their genre links). Row by row, psycopg sent one statement per row: at 25 M ratings the
    62,423 movies and their 187,000 genre links took 17-26 s of the PostgreSQL load."""
    if not rows:
        return
    writer = BulkMerge(conn, merge, columns)
    writer.write(rows)
    writer.finish()


def _pairs(conn: Connection, query: TextClause, table: str) -> list[tuple[str, str]]:
    """(name, definition) rows of a catalog query about ``table``."""
    return [(str(name), str(sql)) for name, sql in conn.execute(query, {"table": table})]
