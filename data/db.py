"""Opening the store: one engine factory for SQLite and PostgreSQL, the schema check (Alembic,
``data.migrations``), and the checks of the store file before use.

SQLite is the embedded default; each connection gets WAL (readers never block the writer),
enforced foreign keys, and a busy timeout so that concurrent server workers wait instead of
failing. On PostgreSQL every round trip counts (each one is a message to another process and
back, where SQLite's reads are a function call): a pooled connection is pinged before use only
after it sat idle (``IDLE_PING_SECONDS``), not at every checkout, and the request path's reads
go through ``reader``, which spares them the BEGIN and ROLLBACK around each use. The driver,
psycopg 3, prepares a statement on a connection by itself once it has run five times there, so
the statements the request path builds once (``data.ratings``, ``data.tokens``) run prepared.
Reads take their rows with ``.all()`` (one ``fetchall``): iterating a result calls the driver's
``fetchone`` per row, which psycopg runs in Python (232 rows: 0.27 ms more CPU than one call).

A SQLite store movierec creates carries its mark in the file header (``PRAGMA application_id``),
so a file found at the store's path can be told apart from one movierec must not touch: a
0-byte file, a file that is not SQLite, another application's database, or an empty database
without the mark is refused with one message, never built over. Stores made before the mark
existed are recognised by their version table (``alembic_version``, or the pre-Alembic
``schema_version``) and get the mark at the next ``movierec etl`` or ``movierec db upgrade``.
Every fault of the file or its folder (truncated, damaged, read-only, unwritable folder) becomes
a ``StoreError`` naming the file, never a driver traceback.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
import shutil
import sqlite3
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass
from enum import Enum
from functools import partial
from pathlib import Path
from typing import Any, Generic, Literal, TypeVar, cast

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.engine.default import DefaultDialect
from sqlalchemy.engine.interfaces import DBAPIConnection, ExecutionContext
from sqlalchemy.exc import DBAPIError, DisconnectionError, OperationalError
from sqlalchemy.pool import ConnectionPoolEntry, PoolProxiedConnection, QueuePool
from sqlalchemy.sql import ClauseElement

from data import migrations
from data.migrations import Found, StoreError

# "mvrc": the header mark of a SQLite file movierec created (PRAGMA application_id).
APPLICATION_ID = 0x6D767263
_SQLITE_MAGIC = b"SQLite format 3\x00"
_HEADER_SIZE = 100
_APPLICATION_ID_AT = slice(68, 72)
_TABLE_NAMES = "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
# SQLite's primary result codes (the low byte of an extended code) for a file whose pages are not
# what SQLite wrote: SQLITE_CORRUPT ("malformed") and SQLITE_NOTADB (a damaged header).
_DAMAGE_CODES = {sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB}


# A pooled connection used within this many seconds is trusted without a ping: under load every
# connection is, and a ping at each checkout was a round trip per statement (pool_pre_ping).
IDLE_PING_SECONDS = 10.0
_CHECKED_IN = "movierec_checked_in"
# PostgreSQL connections a worker's event loop keeps for its point reads (``LoopReads``): each
# read holds one for its round trip, and longer while the loop is busy with other requests, so
# a read finding all of them busy goes to a thread. As many as a worker's clients in flight:
# with 4, bench/api_load.py --postgres put the warm legacy recommendation at 0.75-0.80 of
# SQLite's rate; with 8, at 0.94 (README "Scale").
LOOP_CONNECTIONS = 8
# Connections an engine keeps open, and how many more it may open under a burst. The
# request path reads from threads (anyio's pool: 40 per worker), so a worker under load holds
# as many checkouts as it has requests in flight; with SQLAlchemy's default of 5 kept, every
# checkout past the fifth opened a connection and closed it on return (a new server process
# each time: 348 sessions in one 3-round bench/api_load.py --postgres run). Kept plus overflow
# equals the thread pool, so a read never waits for a connection while a thread is free.
POOL_SIZE = 16
POOL_OVERFLOW = 24
# PostgreSQL's hottest reads run on the event loop's own connections (``LoopReads``), which come
# out of that same number: a worker holds at most 40 connections in all, as before they existed.
POSTGRES_POOL_OVERFLOW = POOL_OVERFLOW - LOOP_CONNECTIONS


# How long a statement waits for a lock another connection holds before it fails.
BUSY_TIMEOUT_MS = 30_000
# Every connection to a store in use: readers never block the writer, a crash loses nothing.
_PRAGMAS = (
    "journal_mode=WAL",
    "foreign_keys=ON",
    "synchronous=NORMAL",
    f"busy_timeout={BUSY_TIMEOUT_MS}",
)
# A store being built in a new file no one else can see (``store_for_load``): no journal file
# (a failed build is deleted, not rolled back page by page) and no syncs; the finished file is
# synced once, switched to WAL, and only then moved into place. Foreign keys are checked once,
# over the finished file, instead of two look-ups per inserted row (a third of a bulk insert's
# CPU); a violation fails the build like any other error.
_NEW_FILE_PRAGMAS = ("journal_mode=MEMORY", "foreign_keys=OFF", "synchronous=OFF")


def make_engine(url: str, *, new_file: bool = False) -> Engine:
    """Create an engine; for SQLite, create the file's folder and set the connection pragmas
    (``new_file``: those of a store no other process uses yet, see ``store_for_load``)."""
    path = sqlite_path(url)
    if make_url(url).get_backend_name() != "sqlite":
        engine = create_engine(url, pool_size=POOL_SIZE, max_overflow=POSTGRES_POOL_OVERFLOW)
        event.listen(engine, "checkin", _note_checkin)
        event.listen(engine, "checkout", partial(_ping_if_idle, engine.dialect))
        event.listen(engine, "before_cursor_execute", _binary_results)
        return engine
    if path is not None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(
                f"cannot create the store's folder {path.parent}: {exc.strerror}"
            ) from exc
    # The same pool as PostgreSQL's: with SQLAlchemy's default of 5 kept, a worker under load
    # opened a connection (and ran its four pragmas) for every read past the fifth in flight
    # and closed it on return (py-spy under wrk: 7 % of a worker's samples in connecting,
    # the pragmas and closing).
    engine = create_engine(
        url,
        connect_args={"check_same_thread": False, "timeout": 30},
        pool_size=POOL_SIZE,
        max_overflow=POOL_OVERFLOW,
    )
    pragmas = _NEW_FILE_PRAGMAS if new_file else _PRAGMAS

    def set_pragmas(dbapi_conn: sqlite3.Connection, _record: object) -> None:
        cursor = dbapi_conn.cursor()
        for pragma in pragmas:
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    event.listen(engine, "connect", set_pragmas)
    return engine


# An execution option: the statement's results come in PostgreSQL's binary format (psycopg's
# ``cursor.format``; SQLite ignores it). A ``bytea`` then crosses as its bytes instead of hex
# text that the server encodes and the driver decodes: a user's 390 kB of packed ratings read
# in 0.9-1.6 ms against 8.6-20.7 ms as text (``bench/user_read.py``, p50 of 3 rounds each).
# For the dialect's own SQL (``exec_driver_sql``, ``text``), whose values no SQLAlchemy type
# processes: the driver's binary loaders give the same Python values as its text ones (int,
# str, bytes).
BINARY_RESULTS = "movierec_binary_results"


def _binary_results(
    _conn: Connection,
    cursor: Any,
    _statement: str,
    _parameters: object,
    context: ExecutionContext | None,
    _executemany: bool,
) -> None:
    if context is not None and context.execution_options.get(BINARY_RESULTS):
        from psycopg import pq  # only PostgreSQL's engines listen, and they have psycopg

        cursor.format = pq.Format.BINARY


def _note_checkin(_dbapi_conn: object, record: ConnectionPoolEntry) -> None:
    record.info[_CHECKED_IN] = time.monotonic()


def _ping_if_idle(
    dialect: Dialect,
    dbapi_conn: DBAPIConnection,
    record: ConnectionPoolEntry,
    _proxy: PoolProxiedConnection,
) -> None:
    """Ping a connection that sat idle (the server may have restarted or dropped it meanwhile).

    A dead one raises ``DisconnectionError``, on which the pool discards it and checks out
    another (a fresh connection has no check-in time and is not pinged). A connection that dies
    while in steady use fails its statement instead, and SQLAlchemy then discards every pooled
    connection older than it, so one request per worker sees a server restart under load.
    """
    checked_in = record.info.get(_CHECKED_IN)
    if checked_in is None or time.monotonic() - checked_in < IDLE_PING_SECONDS:
        return
    try:
        dialect.do_ping(dbapi_conn)
    except dialect.loaded_dbapi.Error as exc:
        raise DisconnectionError(f"an idle pooled connection is gone: {exc}") from exc


def reader(engine: Engine) -> Engine:
    """The engine for reads that need no transaction around them, sharing ``engine``'s pool.

    On PostgreSQL a connection outside autocommit opens a transaction before its first statement
    and rolls it back when returned to the pool: two round trips around a one-statement read.
    Under READ COMMITTED each statement sees its own snapshot either way, so a read loses
    nothing by running in autocommit. SQLite's driver opens no transaction for a SELECT to begin
    with, and switching its mode costs a statement per checkout, so SQLite keeps ``engine``.
    Writes keep ``engine.begin()`` on the engine itself, never this one: here each statement
    would commit on its own.
    """
    if engine.dialect.name == "sqlite":
        return engine
    return engine.execution_options(isolation_level="AUTOCOMMIT")


T = TypeVar("T")
# SQLite virtual-machine steps a read on an event loop may take before it is stopped (handed to
# a thread instead): a primary-key look-up takes a few dozen.
LOOP_READ_STEPS = 1_000
# How often, in SQLite steps, a read on the loop is checked against that bound.
_STEPS_PER_CHECK = 100
# How long a point read on PostgreSQL's loop (connecting included) may take before it is given
# up and read in a thread instead, where the engine's own waits and errors apply.
LOOP_READ_SECONDS = 1.0
# After a read on PostgreSQL's loop failed, reads go to threads for this long before the loop
# tries again: a server that is down costs each request no attempt to connect, and the log one
# line per pause, not one per request.
LOOP_PAUSE_SECONDS = 5.0
# How the loop's connections show in ``pg_stat_activity`` (unless the URL names another).
LOOP_APPLICATION_NAME = "movierec event loop"

log = logging.getLogger(__name__)


class Unanswered(Enum):
    """What ``LoopReads.read`` returns when the store could not answer at once."""

    UNANSWERED = "unanswered"


UNANSWERED = Unanswered.UNANSWERED
Row = Sequence[Any]


@dataclass(frozen=True, slots=True)
class PointRead(Generic[T]):
    """One statement in the driver's own SQL with named parameters (``:name`` on SQLite,
    ``%(name)s`` on PostgreSQL), its first row (None when there is none) shaped into the answer.

    Written this way, the same read runs through SQLAlchemy (called with a ``Connection``: in a
    thread, or on SQLite's event loop) and straight through psycopg's async connection on
    PostgreSQL's event loop (``LoopReads``), one definition for both."""

    statements: Mapping[str, str]  # by the name of each dialect it can read on
    params: Mapping[str, object]
    shape: Callable[[Row | None], T]

    def __call__(self, conn: Connection) -> T:
        statement = self.statements[conn.dialect.name]
        return self.shape(conn.exec_driver_sql(statement, dict(self.params)).first())


def driver_sql(statement: ClauseElement) -> dict[str, str]:
    """A Core statement in each dialect's driver SQL, for ``PointRead`` (bound parameters by
    name)."""
    dialects = {
        "sqlite": cast("type[DefaultDialect]", make_url("sqlite://").get_dialect())(
            paramstyle="named"
        ),
        "postgresql": make_url("postgresql+psycopg://").get_dialect()(),
    }
    return {name: str(statement.compile(dialect=dialect)) for name, dialect in dialects.items()}


class LoopReads:
    """Point reads made on a worker's event loop instead of a thread, where the store allows it
    without ever blocking the loop.

    A read in a worker thread costs the trip there and back: a hand-over through the executor's
    queue and the loop's wake-up pipe, the interpreter's lock changing threads each way, and the
    read itself slower in a thread the loop's thread competes with (in process, a warm legacy
    recommendation took 0.76 ms of CPU through the thread, 0.40 ms without the trip:
    README "Scale").

    - SQLite: a primary-key look-up is a function call of microseconds, as long as it neither
      waits for a lock nor runs long, so ``read`` runs it right here with the connection's busy
      timeout at 0 and a bound of ``LOOP_READ_STEPS`` steps: a read that would wait (another
      connection holding the store exclusively) or run long fails at once, and ``read``
      answers ``UNANSWERED``, for the caller to read in a thread as before; so it does when no
      pooled connection is idle (all in use by threads).
    - PostgreSQL: a read is a round trip the loop can wait for without blocking. After
      ``open``, ``read`` sends it on one of up to ``LOOP_CONNECTIONS`` psycopg async
      connections of the loop ``open`` ran on (autocommit; psycopg prepares a statement run
      five times). Through SQLAlchemy's async engine the same read cost 292-317 us of CPU,
      against 531-618 through a thread and 112-114 on psycopg alone (``bench/loop_reads.py``,
      README "Scale"), so it goes to psycopg alone. Anything else answers ``UNANSWERED``, for
      a thread to read instead: before ``open`` and after ``close``, another loop (GraphQL's
      own, ``graph.side_loop``), every connection busy, and a read that fails or takes over
      ``LOOP_READ_SECONDS``, whose connection is closed (a server restarted, a network gone):
      the thread's read then meets the engine's own pings, waits and errors, and so do every
      read's for the ``LOOP_PAUSE_SECONDS`` after.

    Either way the statement reaches the engine's ``before_cursor_execute`` and
    ``after_cursor_execute`` listeners (metrics, statement counts); on PostgreSQL's loop with
    no connection and no execution context, as SQLAlchemy runs no part of it.
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._dialect = engine.dialect.name
        self._sqlite = self._dialect == "sqlite"
        self._loop: asyncio.AbstractEventLoop | None = None
        self._idle: list[Any] = []  # psycopg.AsyncConnection, imported only for PostgreSQL
        self._opened = 0
        self._paused_until = 0.0

    async def open(self) -> None:
        """Make PostgreSQL's reads on the running loop from now on, and open its connections
        before any request needs one (nothing to do on SQLite). Opened under load instead, by
        the first requests of a worker whose loop and threads were busy with their cold start,
        a connection took over ``LOOP_READ_SECONDS`` (bench/api_load.py --postgres). One that
        cannot be opened now is opened by a read later. Bound to one loop at a time: opened
        again from another (two apps on one set of services, as tests build them), it stays
        with the first, whose connections are used on no other loop."""
        if self._sqlite or self._loop is not None:
            return
        self._loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(LOOP_READ_SECONDS):
                while self._opened < LOOP_CONNECTIONS:
                    self._idle.append(await self._connect())
        except (OSError, TimeoutError, _psycopg_error()) as exc:
            log.warning("opened %d of the event loop's connections: %s", self._opened, _why(exc))

    async def close(self) -> None:
        """Close the loop's connections, called on the loop ``open`` bound (from any other,
        nothing to do)."""
        if self._loop is not asyncio.get_running_loop():
            return
        self._loop = None
        idle, self._idle = self._idle, []
        for conn in idle:
            await self._discard(conn)

    async def read(self, point: PointRead[T]) -> T | Literal[Unanswered.UNANSWERED]:
        """``point``'s answer, or ``UNANSWERED`` when it could not be had without blocking (or
        ``point`` has no statement for this store)."""
        if self._dialect not in point.statements:
            return UNANSWERED
        if self._sqlite:
            return self._read_sqlite(point)
        if self._loop is None or asyncio.get_running_loop() is not self._loop:
            return UNANSWERED
        if not self._idle and self._opened >= LOOP_CONNECTIONS:
            return UNANSWERED
        if time.monotonic() < self._paused_until:
            return UNANSWERED
        try:
            async with asyncio.timeout(LOOP_READ_SECONDS):
                conn = self._idle.pop() if self._idle else await self._connect()
                try:
                    answer = await self._send(conn, point)
                except BaseException:
                    await self._discard(conn)
                    raise
        except (OSError, TimeoutError, _psycopg_error()) as exc:
            self._paused_until = time.monotonic() + LOOP_PAUSE_SECONDS
            log.warning(
                "a read on the event loop failed; reading in threads for %g s: %s",
                LOOP_PAUSE_SECONDS,
                _why(exc),
            )
            return UNANSWERED
        if self._loop is not None:
            self._idle.append(conn)
        else:  # closed meanwhile
            await self._discard(conn)
        return answer

    async def _discard(self, conn: Any) -> None:
        """Close one of the loop's connections, making room for another."""
        self._opened -= 1
        await conn.close()

    async def _connect(self) -> Any:
        import psycopg  # only PostgreSQL's loops connect, and they have psycopg

        self._opened += 1
        try:
            args, kwargs = self._engine.dialect.create_connect_args(self._engine.url)
            kwargs.pop("context", None)  # SQLAlchemy's adapters: plain values here
            kwargs.setdefault("application_name", LOOP_APPLICATION_NAME)
            return await psycopg.AsyncConnection.connect(*args, **kwargs, autocommit=True)
        except BaseException:
            self._opened -= 1
            raise

    async def _send(self, conn: Any, point: PointRead[T]) -> T:
        statement = point.statements["postgresql"]
        listeners = self._engine.dispatch
        async with conn.cursor() as cursor:
            listeners.before_cursor_execute(None, cursor, statement, point.params, None, False)
            await cursor.execute(statement, point.params)
            listeners.after_cursor_execute(None, cursor, statement, point.params, None, False)
            return point.shape(await cursor.fetchone())

    def _read_sqlite(self, point: PointRead[T]) -> T | Literal[Unanswered.UNANSWERED]:
        pool = self._engine.pool
        # Only with a connection idle in the pool: checking one out must neither wait for one
        # nor open one (a new connection's pragmas wait for locks like any statement).
        if not isinstance(pool, QueuePool) or pool.checkedin() == 0:
            return UNANSWERED
        with self._engine.connect() as conn:
            raw = conn.connection.dbapi_connection
            assert isinstance(raw, sqlite3.Connection)
            raw.execute("PRAGMA busy_timeout = 0")
            raw.set_progress_handler(_stopper(), _STEPS_PER_CHECK)
            try:
                return point(conn)
            except OperationalError:  # locked or stopped: a thread will read it
                return UNANSWERED
            finally:
                raw.set_progress_handler(None, 0)
                raw.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")


def _why(exc: BaseException) -> str:
    """An exception for a log line: its message, or its kind when it has none (a timeout)."""
    return str(exc) or type(exc).__name__


def _psycopg_error() -> type[Exception]:
    """psycopg's base error class, imported when a PostgreSQL read needs it."""
    import psycopg

    return psycopg.Error


def _stopper() -> Callable[[], bool]:
    """A progress handler that interrupts the statement it runs under (True: stop) at its
    ``LOOP_READ_STEPS // _STEPS_PER_CHECK``-th call, so within its first ``LOOP_READ_STEPS``
    steps and after at least that less ``_STEPS_PER_CHECK``.

    SQLite calls the handler when a statement's step count, which it keeps for the prepared
    statement across every run, passes a multiple of the handler's period. Driven by that count
    alone, a handler that stopped at its first call (as this one did) interrupted one run in
    about a hundred of a 9-step primary-key look-up, reused from the statement cache, whatever
    its own length: counting its own calls bounds each read by its own steps."""
    calls = itertools.count(1)
    return lambda: next(calls) >= LOOP_READ_STEPS // _STEPS_PER_CHECK


def sqlite_path(url: str) -> Path | None:
    """The file of a SQLite URL; None for an in-memory database or another dialect."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


def open_store(url: str, *, create: bool = False) -> Engine:
    """Open the store and check its schema version.

    With ``create`` a missing store is created or an older one migrated; without it a missing
    or outdated schema is an error, so a server never silently writes a schema of its own (and
    never leaves an empty file behind). Raises ``StoreError`` with a message naming what was
    found.
    """
    path = sqlite_path(url)
    fresh = False
    if path is not None:
        check_sqlite_file(path)
        fresh = not path.exists()
        if fresh and not create:
            raise StoreError(
                f"the store at {_safe(url)} is empty; run `movierec etl` to build it (no file yet)"
            )
    engine = make_engine(url)
    try:
        with _store_errors(url), engine.begin() as conn:
            _bring_up_to_date(conn, url, create=create, fresh=fresh)
    except Exception:
        engine.dispose()
        raise
    return engine


@contextmanager
def store_for_load(url: str) -> Iterator[Engine]:
    """The store a full load (``movierec etl``) writes into, ready at the schema's head.

    A SQLite store that does not exist yet is built in a new file in a private folder beside
    its path, with the pragmas of a bulk load (``_NEW_FILE_PRAGMAS``), and moved into place only
    when the load returns: a failed or interrupted load leaves no store at all, as before it
    started, and a server never sees a half-built one. The move is a hard link, which refuses
    to replace a store another process created meanwhile. Any other store (a SQLite file that
    exists, PostgreSQL) is opened as ``open_store(url, create=True)`` does, and the load's one
    transaction is what keeps a failure from changing it.
    """
    path = sqlite_path(url)
    if path is not None:
        check_sqlite_file(path)
    if path is None or path.exists():
        engine = open_store(url, create=True)
        try:
            yield engine
        finally:
            engine.dispose()
        return
    folder = _private_folder(path)
    built = folder / path.name
    try:
        built_url = make_url(url).set(database=str(built)).render_as_string(hide_password=False)
        engine = make_engine(built_url, new_file=True)
        try:
            with _store_errors(url), engine.begin() as conn:
                _bring_up_to_date(conn, url, create=True, fresh=True)
            yield engine
            with _store_errors(url), engine.connect() as conn:
                _check_foreign_keys(conn, url)
                conn.exec_driver_sql("PRAGMA journal_mode=WAL")
        finally:
            engine.dispose()
        _move_into_place(built, path)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _check_foreign_keys(conn: Connection, url: str) -> None:
    """Refuse a built file with a row whose foreign key finds no parent (``_NEW_FILE_PRAGMAS``
    left the checks to here), naming every table and missing parent, since a trigger's derived
    row can break a key alongside the row that caused it."""
    broken = conn.exec_driver_sql("PRAGMA foreign_key_check").all()
    if broken:
        pairs = sorted({(str(table), str(parent)) for table, _, parent, _ in broken})
        where = "; ".join(f"{table} rows refer to missing {parent} rows" for table, parent in pairs)
        raise StoreError(
            f"the load into {_safe(url)} broke {len(broken):,} foreign keys ({where}); "
            "the store was not created"
        )


def _private_folder(path: Path) -> Path:
    """A new folder beside the store, on the same file system (so a link can move the file)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        return Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".loading", dir=path.parent))
    except OSError as exc:
        raise StoreError(
            f"cannot create the store in {path.parent}: {exc.strerror} "
            "(the folder must be writable by this user)"
        ) from exc


def _move_into_place(built: Path, path: Path) -> None:
    """Sync the finished file, then give it the store's name, unless that name was taken."""
    with built.open("rb") as handle:
        os.fsync(handle.fileno())
    try:
        os.link(built, path)
    except FileExistsError:
        raise StoreError(
            f"a store appeared at {path} while this load was building one (another "
            "`movierec etl`?); it was left as it is: rerun to load into it"
        ) from None
    except OSError as exc:
        raise StoreError(f"cannot move the new store into place at {path}: {exc.strerror}") from exc
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def _bring_up_to_date(conn: Connection, url: str, *, create: bool, fresh: bool) -> None:
    try:
        found = migrations.current(conn)
    except StoreError as exc:
        raise StoreError(f"the store at {_safe(url)}: {exc}") from None
    at_head = found.revision == migrations.head() and not found.legacy
    if at_head and not create:
        return
    if not create:
        raise StoreError(_outdated(url, found))
    if conn.dialect.name == "sqlite":
        marked = _refuse_unmarked_empty(conn, url, found.revision, fresh=fresh)
        if not marked:
            conn.execute(text(f"PRAGMA application_id = {APPLICATION_ID}"))
    if not at_head:
        migrations.upgrade(conn, found)


def _outdated(url: str, found: Found) -> str:
    if found.revision is None:
        return f"the store at {_safe(url)} is empty; run `movierec etl` to build it"
    if found.legacy:
        return (
            f"the store at {_safe(url)} was built by a movierec release before Alembic "
            f"(schema_version {migrations.LEGACY_VERSION}); run `movierec db upgrade` to migrate it"
        )
    return (
        f"the store at {_safe(url)} is at schema revision {found.revision}, this movierec needs "
        f"{migrations.head()}; run `movierec db upgrade` to migrate it"
    )


def _refuse_unmarked_empty(conn: Connection, url: str, found: str | None, *, fresh: bool) -> bool:
    """Whether the SQLite file carries movierec's mark; raises for an empty database without
    it that movierec did not just create (someone else's, which building into would take over).
    """
    marked = conn.execute(text("PRAGMA application_id")).scalar() == APPLICATION_ID
    if found is None and not (fresh or marked):
        raise StoreError(
            f"{_safe(url)} is an empty SQLite database that movierec did not create; "
            "movierec leaves it alone: remove it, or set MOVIEREC_DATABASE_URL"
        )
    return marked


def check_sqlite_file(path: Path) -> None:
    """Refuse, before SQLite opens (or writes to) it, a file movierec cannot have created.

    SQLite itself treats a 0-byte file as an empty database and would let the ETL build into
    it; movierec never leaves one (its first write is the header), so one found here is someone
    else's.
    """
    try:
        with path.open("rb") as handle:
            header = handle.read(_HEADER_SIZE)
    except FileNotFoundError:
        return
    except OSError as exc:
        raise StoreError(f"cannot read the store {path}: {exc.strerror}") from exc
    keep = "movierec leaves it alone: remove it, or set MOVIEREC_DATABASE_URL"
    if not header:
        raise StoreError(f"{path} is an empty file that movierec did not create; {keep}")
    if len(header) < _HEADER_SIZE or not header.startswith(_SQLITE_MAGIC):
        raise StoreError(f"{path} is not a SQLite database (another file, or damaged); {keep}")
    application_id = int.from_bytes(header[_APPLICATION_ID_AT], "big")
    if application_id not in (0, APPLICATION_ID):
        raise StoreError(
            f"{path} is another application's SQLite database "
            f"(application_id {application_id:#x}); {keep}"
        )
    if application_id == 0:
        _check_unmarked(path, keep)


def _check_unmarked(path: Path, keep: str) -> None:
    """A SQLite file without the mark is movierec's only if it has a schema version table
    (Alembic's, or the pre-Alembic ``schema_version``: made before the mark existed).
    Read-only: even opening it the usual way would switch it to WAL mode, a write to a file that
    may be someone else's."""
    try:
        with closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)) as conn:
            names = [row[0] for row in conn.execute(_TABLE_NAMES)]
    except sqlite3.Error as exc:
        raise _store_error(str(path), exc) from exc
    if {migrations.VERSION_TABLE, migrations.LEGACY_TABLE} & set(names):
        return
    if not names:
        raise StoreError(f"{path} is an empty SQLite database that movierec did not create; {keep}")
    shown = ", ".join(names[:5])
    raise StoreError(f"{path} is not a movierec database (its tables: {shown}); {keep}")


def check_usable(engine: Engine) -> None:
    """Refuse a SQLite store the server could read but not fully use: one it cannot write
    (a read-only file or folder), or one with damaged pages, which a one-row read does not meet.

    ``PRAGMA quick_check`` reads every page: about 70 ms for the MovieLens small store (README,
    "Operations"), paid once by ``movierec serve`` before workers start. PostgreSQL checks its
    own pages and permissions.
    """
    if engine.dialect.name != "sqlite":
        return
    url = str(engine.url)
    with _store_errors(url), closing(engine.raw_connection()) as conn:
        cursor = conn.cursor()
        # A write, rolled back: in WAL mode a read-only file grants even the write lock, and
        # fails only when a page is changed (here the header's user_version, to its own value).
        user_version = int(cursor.execute("PRAGMA user_version").fetchone()[0])
        cursor.execute("BEGIN IMMEDIATE")
        cursor.execute(f"PRAGMA user_version = {user_version}")
        cursor.execute("ROLLBACK")
        found = [str(row[0]) for row in cursor.execute("PRAGMA quick_check(3)")]
    if found != ["ok"]:
        problems = "; ".join(" ".join(line.split()) for line in found)
        raise _damaged(_safe(url), problems)


def store_exists(url: str) -> bool:
    """True when the database holds a movierec schema; False when there is nothing to keep
    (no file, an empty PostgreSQL database). Raises ``StoreError`` for anything movierec must
    not build over: a foreign or unreadable database, an empty one it did not create."""
    path = sqlite_path(url)
    if path is not None:
        check_sqlite_file(path)
        if not path.exists():
            return False
    engine = make_engine(url)
    try:
        with _store_errors(url), engine.connect() as conn:
            try:
                found = migrations.current(conn).revision
            except StoreError as exc:
                raise StoreError(f"the store at {_safe(url)}: {exc}") from None
            if conn.dialect.name == "sqlite":
                _refuse_unmarked_empty(conn, url, found, fresh=False)
            return found is not None
    finally:
        engine.dispose()


@contextmanager
def _store_errors(url: str) -> Iterator[None]:
    """A driver error while opening the store becomes one line naming the store and the cause."""
    try:
        yield
    except (DBAPIError, sqlite3.Error) as exc:  # the latter from raw connections
        raise _store_error(_safe(url), exc) from exc


def _store_error(store: str, exc: Exception) -> StoreError:
    """One line naming the store and the cause of a driver error.

    Damage is told as damage whichever read meets it first: the schema check, Alembic, or
    ``PRAGMA quick_check`` itself all fail with SQLite's "malformed" once a page they need is
    overwritten (which page that is moves as revisions add tables), and the user's remedy is the
    same in every case.
    """
    reason = describe(exc)
    cause = exc.orig if isinstance(exc, DBAPIError) else exc
    code = getattr(cause, "sqlite_errorcode", None)
    if code is not None and code & 0xFF in _DAMAGE_CODES:
        return _damaged(store, reason)
    hint = ""
    if "readonly" in reason or "unable to open" in reason:
        hint = " (the file and its folder must be writable by this user)"
    return StoreError(f"cannot use the store at {store}: {reason}{hint}")


def _damaged(store: str, problems: str) -> StoreError:
    return StoreError(
        f"the store at {store} is damaged ({problems}); restore a backup or rebuild it "
        "with `movierec etl` into a new file"
    )


def describe(exc: Exception) -> str:
    """The driver's own one-line reason ("database disk image is malformed"), without the SQL."""
    cause = exc.orig if isinstance(exc, DBAPIError) else exc
    lines = str(cause).splitlines()
    return lines[0] if lines else type(exc).__name__


def _safe(url: str) -> str:
    """The URL with any password hidden, for messages and logs."""
    return make_url(url).render_as_string(hide_password=True)
