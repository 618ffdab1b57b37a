"""GraphQL on its own loop: probes answer while it executes; the request follows it there; a
cheap request seen before stays on the main loop."""

from __future__ import annotations

import asyncio
import inspect
import threading
from contextvars import ContextVar

import pytest
from fastapi.testclient import TestClient
from graphql import parse

from graph import cost, metrics
from graph.config import GraphQLLimits
from graph.request_id import current_request_id
from graph.router import INLINE_BODY_BYTES, INLINE_COST, CheapBodies
from graph.schema import build_schema
from graph.services.bundle import Services
from graph.side_loop import SideLoop
from tests.graph.conftest import GraphQL

SCHEMA = build_schema(GraphQLLimits())._schema

WHO: ContextVar[str] = ContextVar("who", default="nobody")


def test_a_coroutine_runs_on_the_side_loop_in_the_callers_context() -> None:
    side = SideLoop()

    async def where() -> tuple[str, str]:
        return threading.current_thread().name, WHO.get()

    async def caller() -> tuple[str, str]:
        WHO.set("request 7")
        return await side.run(where())

    try:
        assert asyncio.run(caller()) == ("graphql-loop", "request 7")
    finally:
        side.stop()


def test_an_error_on_the_side_loop_reaches_the_caller() -> None:
    side = SideLoop()

    async def fails() -> None:
        raise LookupError("no such movie")

    try:
        with pytest.raises(LookupError, match="no such movie"):
            asyncio.run(side.run(fails()))
    finally:
        side.stop()


def test_cancelling_the_caller_cancels_the_task_on_the_side_loop() -> None:
    side = SideLoop()
    started, cancelled = threading.Event(), threading.Event()

    async def forever() -> None:
        started.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise

    async def caller() -> None:
        waiting = asyncio.create_task(side.run(forever()))
        while not started.is_set():
            await asyncio.sleep(0.001)
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting

    try:
        asyncio.run(caller())
        assert cancelled.wait(10)
    finally:
        side.stop()


def test_stopping_cancels_and_closes_every_task_left_on_the_side_loop() -> None:
    """Tasks the loop holds when it stops (a failed field's siblings, which graphql-core
    settles in the background; a DataLoader's batch) are cancelled there, started or not. A
    coroutine dropped before its first step warns "never awaited" whenever the garbage
    collector reaches it, inside whatever code runs then: that warning, raised in a frame
    without builtins, failed the fuzz test of a CI run."""
    side = SideLoop(name="graphql-loop-stopping")
    loop = side._started()
    (thread,) = [t for t in threading.enumerate() if t.name == "graphql-loop-stopping"]
    entered, cancelled, gate = threading.Event(), threading.Event(), threading.Event()

    async def waits() -> None:
        entered.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise

    async def never_runs() -> None:
        raise AssertionError("cancelled before its first step, it never runs")

    unstarted = never_runs()
    loop.call_soon_threadsafe(loop.create_task, waits())
    assert entered.wait(10)
    # The loop waits for the gate while the next two callbacks queue up: they then run in one
    # pass, the task created by the first left for a pass that the stop never lets come.
    loop.call_soon_threadsafe(gate.wait)
    loop.call_soon_threadsafe(loop.create_task, unstarted)
    side.stop()
    gate.set()
    thread.join(10)
    assert not thread.is_alive()
    assert cancelled.is_set()
    assert inspect.getcoroutinestate(unstarted) == inspect.CORO_CLOSED


def test_healthz_and_legacy_answer_while_graphql_holds_its_loop(
    http: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A query whose costing never yields (CPU-bound, like graphql-core executing a big answer)
    held the one loop, so /healthz waited for it; now it holds GraphQL's loop only."""
    entered, release = threading.Event(), threading.Event()
    real_price = cost.operation_price

    def busy(*args: object) -> cost.Price:
        entered.set()
        release.wait(30)  # blocks the thread it runs on, as a long computation would
        return real_price(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(cost, "operation_price", busy)
    answers: list[int] = []
    query = threading.Thread(
        target=lambda: answers.append(
            http.post("/graphql", json={"query": "{ genres }"}).status_code
        )
    )
    query.start()
    try:
        assert entered.wait(30)
        assert http.get("/healthz").status_code == 200
        assert http.get("/user/1/movies").status_code == 200
        assert not answers  # the query is still held
    finally:
        release.set()
        query.join(30)
    assert answers == [200]


def test_the_request_id_follows_the_query_to_its_loop_and_threads(
    http: TestClient, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[str | None] = []
    genres = services.catalog.genres

    def spied() -> list[str]:
        seen.append(current_request_id())
        return genres()

    monkeypatch.setattr(services.catalog, "genres", spied)
    response = http.post(
        "/graphql", json={"query": "{ genres }"}, headers={"X-Request-ID": "trace-42"}
    )
    assert response.status_code == 200
    assert response.headers["x-request-id"] == "trace-42"
    assert seen == ["trace-42"]


def _loops_seen(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The thread each GraphQL operation is timed on from now on (graph.metrics)."""
    seen: list[str] = []
    label = metrics.operation_label

    def spied(name: str | None) -> str:
        seen.append(threading.current_thread().name)
        return label(name)

    monkeypatch.setattr(metrics, "operation_label", spied)
    return seen


def test_a_cheap_request_seen_before_stays_on_the_main_loop(
    gql: GraphQL, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen = _loops_seen(monkeypatch)
    token = gql.login()
    seen.clear()
    query = "{ viewer { recommendations(first: 10) { id title posterUrl } } }"
    first, again = gql(query, token=token), gql(query, token=token)
    assert first == again
    assert len(again["data"]["viewer"]["recommendations"]) == 10
    assert seen[0] == "graphql-loop"  # not known yet: costed on GraphQL's loop
    assert seen[1] != "graphql-loop"  # the same body, known cheap: run where it arrived
    # Another body (other variables, another token's request alike) is costed anew.
    assert "errors" not in gql("query($n: Int!) { featured(first: $n) { id } }", {"n": 2})
    assert seen[2] == "graphql-loop"


def test_costly_refused_and_long_requests_always_go_to_graphqls_loop(
    gql: GraphQL, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen = _loops_seen(monkeypatch)
    costly = "{ featured(first: 100) { id title year genres posterUrl } }"  # 31 + 100 x 5
    assert cost.operation_cost(SCHEMA, parse(costly).definitions, None, {}) > INLINE_COST
    refused = "{ movie(id: 1) { similar(first: 100) { similar(first: 100) { title } } } }"
    invalid = "{ nope }"
    long = "{ genres " + " " * INLINE_BODY_BYTES + "}"
    for query in (costly, refused, invalid, long):
        seen.clear()
        for _ in range(2):
            gql(query)
        assert seen == ["graphql-loop", "graphql-loop"], query


def test_the_cheap_bodies_kept_are_bounded() -> None:
    bodies = CheapBodies(size=2)
    digests = [CheapBodies.digest(f'{{"query": "{{ a{n} }}"}}'.encode()) for n in range(3)]
    for digest in digests:
        assert digest is not None
        bodies.add(digest)
    assert digests[2] in bodies
    assert digests[0] not in bodies
    assert CheapBodies.digest(b" " * (INLINE_BODY_BYTES + 1)) is None
