"""Prometheus metrics: every metric the server exports is defined here, once, and ``GET /metrics``.

Several uvicorn workers serve one port, and a scrape reaches one of them, so with more than one
worker the metrics live in prometheus-client's multiprocess mode: each worker writes its values
to files in ``PROMETHEUS_MULTIPROC_DIR`` (a fresh folder per run that ``graph.server`` makes
before the workers start) and the scrape adds up every worker's files. prometheus-client picks
the mode when it is imported, from that variable; this module reads the variable at the same
moment, so the scrape always reads where the values are written. With one worker (and in tests)
the values stay in the process and the default registry serves them.

Labels stay bounded, whatever clients send: a route is its template (``/user/{user_id}/movies``,
never the id; ``unmatched`` for paths no route serves), and a GraphQL operation is its name only
for the first ``MAX_OPERATION_NAMES`` valid names a worker sees (``anonymous`` without a name,
``other`` beyond the cap or for a name that is not a GraphQL name).
"""

from __future__ import annotations

import contextlib
import os
import re
import time
import weakref
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead
from sqlalchemy import Connection, Engine, event
from sqlalchemy.engine.interfaces import ExecutionContext
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match, Route
from starlette.types import Receive, Scope, Send
from strawberry.extensions import SchemaExtension

if TYPE_CHECKING:
    from recommender.serving import Recommender

MULTIPROCESS_DIR_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"
# Read once, right after prometheus-client read it on import: the two must agree.
_SHARED_DIR = os.environ.get(MULTIPROCESS_DIR_VARIABLE)

# Requests take ~1 ms to ~50 ms here; store queries ~0.1 ms to ~10 ms.
REQUEST_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
QUERY_BUCKETS = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 2.5)

HTTP_REQUESTS = Counter(
    "movierec_http_requests_total",
    "HTTP requests answered, by method, route template and status code.",
    ["method", "route", "status"],
)
HTTP_LATENCY = Histogram(
    "movierec_http_request_duration_seconds",
    "Time from a request's arrival to the end of its response, by method and route template.",
    ["method", "route"],
    buckets=REQUEST_BUCKETS,
)
GRAPHQL_LATENCY = Histogram(
    "movierec_graphql_operation_duration_seconds",
    "GraphQL operations (parse, validation, execution) by operation name; _count counts them.",
    ["operation"],
    buckets=REQUEST_BUCKETS,
)
ERRORS = Counter(
    "movierec_errors_total",
    "Errors by source and code: GraphQL errors by extensions.code, HTTP by status class.",
    ["source", "code"],
)
LOGIN_FAILURES = Counter(
    "movierec_login_failures_total",
    "Logins refused for an unknown username or a wrong password (GraphQL and legacy alike).",
)
RATE_LIMITED = Counter(
    "movierec_rate_limited_total",
    "Requests refused by a rate limit, by limit.",
    ["limit"],
)
# liveall: one series per live worker (label pid), so a mix of versions after a partial
# restart shows; livemax: 1 as soon as any live worker serves the fallback.
MODEL_VERSION = Gauge(
    "movierec_model_version_timestamp_seconds",
    "The served model's version: its artifact's creation time (Unix seconds); 0 for none.",
    multiprocess_mode="liveall",
)
POPULARITY_FALLBACK = Gauge(
    "movierec_popularity_fallback",
    "1 while the popularity ranking serves because no trained model could be loaded.",
    multiprocess_mode="livemax",
)
STORE_QUERY_LATENCY = Histogram(
    "movierec_store_query_duration_seconds",
    "Time the store takes per SQL statement, by statement kind.",
    ["statement"],
    buckets=QUERY_BUCKETS,
)

UNMATCHED_ROUTE = "unmatched"
ANONYMOUS_OPERATION = "anonymous"
OTHER = "other"
MAX_OPERATION_NAMES = 100
_GRAPHQL_NAME = re.compile(r"[_A-Za-z][_0-9A-Za-z]{0,63}")
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
_STATEMENTS = frozenset({"select", "insert", "update", "delete"})
# Names admitted as labels in this worker, added to by both event loops' threads (a set's add
# is atomic; two threads at the cap at once may pass it by one).
_operation_names: set[str] = set()
_QUERY_STARTED = "_movierec_query_started"
_CURSOR_STARTED: weakref.WeakKeyDictionary[Any, float] = weakref.WeakKeyDictionary()


def scrape(_request: Request) -> Response:
    """``GET /metrics``: the text format, summed over every worker's files when shared."""
    return Response(exposition(), media_type=CONTENT_TYPE_LATEST)


def exposition() -> bytes:
    if _SHARED_DIR is None:
        return generate_latest(REGISTRY)
    forget_exited_processes(Path(_SHARED_DIR))
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=_SHARED_DIR)
    return generate_latest(registry)


def forget_exited_processes(directory: Path) -> None:
    """Drop the live gauges of workers that are gone (``mark_process_dead`` for each).

    uvicorn's supervisor has no hook on a worker's exit, and a worker killed by a signal runs no
    code as it goes; so the scrape does this bookkeeping for every worker that has exited since.
    Their counters and histograms stay: requests they served still count.
    """
    for path in directory.glob("gauge_live*_*.db"):
        pid = int(path.stem.rsplit("_", 1)[1])
        if not _running(pid):
            with contextlib.suppress(FileNotFoundError):  # another worker's scrape was first
                mark_process_dead(pid, str(directory))


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, under another user
        return True
    return True


def request_finished(scope: Scope, status: int, seconds: float) -> None:
    """Count an answered HTTP request under its route template (read after routing)."""
    method = scope["method"] if scope["method"] in _METHODS else OTHER
    route = route_template(scope)
    HTTP_REQUESTS.labels(method, route, str(status)).inc()
    HTTP_LATENCY.labels(method, route).observe(seconds)
    if status >= 400:
        ERRORS.labels("http", f"{status // 100}xx").inc()


class LabelledRoute(Route):
    """A Starlette route that leaves itself in the scope, as FastAPI's own routes do, so that its
    requests are labelled without matching every route again (the legacy shim's, per request)."""

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope["route"] = self
        await super().handle(scope, receive, send)


def route_template(scope: Scope) -> str:
    """The template of the route that served the request, e.g. ``/user/{user_id}/movies``.

    FastAPI's routes (GraphQL, probes) and ``LabelledRoute``s leave themselves in the scope;
    plain Starlette routes (/metrics) and the web app's mount do not, so those are matched again.
    """
    route = scope.get("route")
    if route is None:
        route = next(
            (r for r in scope["app"].router.routes if r.matches(scope)[0] is not Match.NONE),
            None,
        )
    path = getattr(route, "path_format", None)
    return path if isinstance(path, str) else UNMATCHED_ROUTE


def graphql_error(code: str) -> None:
    ERRORS.labels("graphql", code).inc()


def operation_label(name: str | None) -> str:
    if name is None:
        return ANONYMOUS_OPERATION
    if name in _operation_names:
        return name
    if not _GRAPHQL_NAME.fullmatch(name) or len(_operation_names) >= MAX_OPERATION_NAMES:
        return OTHER
    _operation_names.add(name)
    return name


class OperationMetrics(SchemaExtension):
    """Times each GraphQL operation under its (bounded) name, failed ones included."""

    def on_operation(self) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            label = operation_label(self.execution_context.operation_name)
            GRAPHQL_LATENCY.labels(label).observe(time.perf_counter() - started)


def serving_model(recommender: Recommender) -> None:
    """Publish which model this worker serves."""
    created = recommender.meta.get("created")
    MODEL_VERSION.set(datetime.fromisoformat(created).timestamp() if created else 0)
    POPULARITY_FALLBACK.set(1 if recommender.kind == "popularity" else 0)


def watch_store(engine: Engine) -> None:
    """Time every statement the engine runs; idempotent, as tests build apps on one engine."""
    if not event.contains(engine, "before_cursor_execute", _query_started):
        event.listen(engine, "before_cursor_execute", _query_started)
        event.listen(engine, "after_cursor_execute", _query_finished)


def _query_started(
    conn: Connection | None,
    cursor: Any,
    statement: str,
    parameters: Any,
    context: ExecutionContext | None,
    executemany: bool,
) -> None:
    # On the statement's own execution context: a statement that fails leaves nothing. A read
    # on PostgreSQL's event loop has none (``data.db.LoopReads``): on its cursor, weakly held.
    if context is not None:
        setattr(context, _QUERY_STARTED, time.perf_counter())
    else:
        _CURSOR_STARTED[cursor] = time.perf_counter()


def _query_finished(
    conn: Connection | None,
    cursor: Any,
    statement: str,
    parameters: Any,
    context: ExecutionContext | None,
    executemany: bool,
) -> None:
    if context is None:
        started = _CURSOR_STARTED.pop(cursor, None)
    else:
        started = getattr(context, _QUERY_STARTED, None)
    if started is not None:
        STORE_QUERY_LATENCY.labels(_statement_kind(statement)).observe(
            time.perf_counter() - started
        )


def _statement_kind(statement: str) -> str:
    words = statement.split(None, 1)
    kind = words[0].lower() if words else OTHER
    return kind if kind in _STATEMENTS else OTHER
