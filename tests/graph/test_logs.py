"""JSON log lines: every logger's records, with the request id of the request that wrote them."""

from __future__ import annotations

import io
import json
import logging
import sys
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.exc import OperationalError

from graph.app import create_app
from graph.config import AppConfig
from graph.logs import Fields, JsonFormatter
from graph.services.bundle import Services
from tests.graph.conftest import break_rated_movies

KEYS = {"time", "level", "logger", "message", "request_id"}
Lines = Callable[[], list[dict[str, Any]]]


@pytest.fixture
def json_lines(caplog: pytest.LogCaptureFixture) -> Iterator[Lines]:
    """The lines the server's JSON handler would print so far, each parsed (so each must parse)."""
    caplog.set_level(logging.INFO)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    finally:
        root.removeHandler(handler)


def test_a_plain_record_outside_a_request() -> None:
    record = logging.LogRecord("etl.load", logging.WARNING, __file__, 1, "%d rows", (3,), None)
    entry = json.loads(JsonFormatter().format(record))
    assert set(entry) == KEYS
    assert entry["level"] == "WARNING"
    assert entry["logger"] == "etl.load"
    assert entry["message"] == "3 rows"
    assert entry["request_id"] is None
    assert entry["time"].endswith("+00:00")


def test_an_exception_is_text_in_its_own_key() -> None:
    try:
        raise ValueError("bad\nvalue")
    except ValueError:
        record = logging.LogRecord(
            "graph.app", logging.ERROR, __file__, 1, "failed", (), sys.exc_info()
        )
    line = JsonFormatter().format(record)
    assert "\n" not in line, "one line per record, tracebacks included"
    entry = json.loads(line)
    assert entry["message"] == "failed"
    assert entry["exception"].startswith("Traceback")
    assert "ValueError: bad\nvalue" in entry["exception"]


def test_fields_are_a_flat_object_and_json_under_a_plain_formatter() -> None:
    message = Fields("GET / 200", method="GET", status=200)
    record = logging.LogRecord("movierec.access", logging.INFO, __file__, 1, message, (), None)
    entry = json.loads(JsonFormatter().format(record))
    assert entry["message"] == "GET / 200"
    assert entry["method"] == "GET"
    assert entry["status"] == 200
    assert json.loads(record.getMessage()) == {"method": "GET", "status": 200}


def test_a_request_s_access_line_carries_its_id(http: TestClient, json_lines: Lines) -> None:
    http.get("/user/1/movies", headers={"X-Request-ID": "access-1"})
    access = [line for line in json_lines() if line["logger"] == "movierec.access"]
    assert len(access) == 1
    entry = access[0]
    assert set(entry) >= KEYS
    assert entry["request_id"] == "access-1"
    assert entry["message"] == "GET /user/1/movies 200"
    assert (entry["method"], entry["path"], entry["status"]) == ("GET", "/user/1/movies", 200)


def test_lines_logged_in_a_worker_thread_carry_the_id(
    http: TestClient, services: Services, monkeypatch: pytest.MonkeyPatch, json_lines: Lines
) -> None:
    """/readyz runs in the thread pool; its error line still names the request."""

    def unreachable() -> None:
        raise OperationalError("SELECT 1", {}, Exception("disk I/O error"))

    monkeypatch.setattr(services.engine, "connect", unreachable)
    assert http.get("/readyz", headers={"X-Request-ID": "ready-7"}).status_code == 503
    errors = [line for line in json_lines() if line["level"] == "ERROR"]
    assert [line["logger"] for line in errors] == ["graph.app"]
    assert errors[0]["request_id"] == "ready-7"
    assert "disk I/O error" in errors[0]["exception"]


def test_an_unhandled_error_s_line_carries_the_id(
    services: Services, config: AppConfig, monkeypatch: pytest.MonkeyPatch, json_lines: Lines
) -> None:
    break_rated_movies(services, monkeypatch, RuntimeError("boom"))
    with TestClient(create_app(config, services), raise_server_exceptions=False) as client:
        client.get("/user/1/movies", headers={"X-Request-ID": "broken-1"})
    lines = json_lines()
    failure = next(line for line in lines if line["message"] == "unhandled error")
    assert failure["request_id"] == "broken-1"
    assert "RuntimeError: boom" in failure["exception"]
    access = next(line for line in lines if line["logger"] == "movierec.access")
    assert (access["status"], access["request_id"]) == (500, "broken-1")
