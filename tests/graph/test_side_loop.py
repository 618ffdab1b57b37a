"""GraphQL on its own loop: probes answer while it executes; the request follows it there."""

from __future__ import annotations

import asyncio
import threading
from contextvars import ContextVar

import pytest
from fastapi.testclient import TestClient

from graph import cost
from graph.request_id import current_request_id
from graph.services.bundle import Services
from graph.side_loop import SideLoop

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
