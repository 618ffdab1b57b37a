"""GET /metrics: what a request, an operation, an error, a login and a query leave behind.

The registry is one per process and other tests add to it too, so each test compares the
values before and after what it does.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import textwrap
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import Engine

from graph import metrics
from graph.app import create_app
from graph.config import AppConfig
from graph.server import shared_metrics_dir
from graph.services.bundle import Services, build_services
from graph.services.recommendations import load_recommender
from recommender.artifact import catalog_fingerprint
from recommender.serving import Recommender
from tests.conftest import PROJECT_ROOT
from tests.graph.conftest import DEMO_PASSWORD, LOGIN, GraphQL

Labels = dict[str, str]
Reader = Callable[[str, Labels], float]


def scrape(http: TestClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = http.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return samples(response.text)


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


@pytest.fixture
def value(http: TestClient) -> Reader:
    """Reads one sample from a fresh scrape; 0 when the series does not exist yet."""

    def read(name: str, labels: Labels) -> float:
        return scrape(http).get((name, tuple(sorted(labels.items()))), 0.0)

    return read


def test_requests_are_counted_under_their_route_template(http: TestClient, value: Reader) -> None:
    route = {"method": "GET", "route": "/user/{user_id}/movies"}
    before = value("movierec_http_requests_total", {**route, "status": "200"})
    timed = value("movierec_http_request_duration_seconds_count", route)
    for user_id in (1, 2, 2):
        assert http.get(f"/user/{user_id}/movies").status_code == 200
    assert value("movierec_http_requests_total", {**route, "status": "200"}) == before + 3
    assert value("movierec_http_request_duration_seconds_count", route) == timed + 3
    text = http.get("/metrics").text
    assert "/user/1/movies" not in text
    assert "/user/2/movies" not in text


def test_unknown_paths_share_one_label_and_count_as_client_errors(
    http: TestClient, value: Reader
) -> None:
    unmatched = {"method": "GET", "route": "unmatched", "status": "404"}
    before = value("movierec_http_requests_total", unmatched)
    errors = value("movierec_errors_total", {"source": "http", "code": "4xx"})
    for path in ("/no/such/page", "/wp-admin/123", "/user/1/ratings"):
        assert http.get(path).status_code == 404
    assert value("movierec_http_requests_total", unmatched) == before + 3
    assert value("movierec_errors_total", {"source": "http", "code": "4xx"}) == errors + 3
    assert "wp-admin" not in http.get("/metrics").text


def test_graphql_operations_are_timed_by_name(http: TestClient, value: Reader) -> None:
    named = {"operation": "Genres"}
    anonymous = {"operation": "anonymous"}
    before = value("movierec_graphql_operation_duration_seconds_count", named)
    before_anonymous = value("movierec_graphql_operation_duration_seconds_count", anonymous)
    graphql = GraphQL(http)
    assert graphql("query Genres { genres }")["data"]["genres"]
    assert graphql("{ genres }")["data"]["genres"]
    assert value("movierec_graphql_operation_duration_seconds_count", named) == before + 1
    assert (
        value("movierec_graphql_operation_duration_seconds_count", anonymous)
        == before_anonymous + 1
    )


def test_operation_names_are_capped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(metrics, "_operation_names", set())
    monkeypatch.setattr(metrics, "MAX_OPERATION_NAMES", 2)
    assert metrics.operation_label("First") == "First"
    assert metrics.operation_label("Second") == "Second"
    assert metrics.operation_label("Third") == "other"
    assert metrics.operation_label("First") == "First"
    assert metrics.operation_label(None) == "anonymous"
    assert metrics.operation_label("not a name; DROP") == "other"
    assert metrics.operation_label("x" * 65) == "other"


def test_graphql_errors_are_counted_by_code(http: TestClient, value: Reader) -> None:
    def errors(code: str) -> float:
        return value("movierec_errors_total", {"source": "graphql", "code": code})

    validation, unauthenticated, bad_request = (
        errors("GRAPHQL_VALIDATION_FAILED"),
        errors("UNAUTHENTICATED"),
        errors("BAD_REQUEST"),
    )
    graphql = GraphQL(http)
    assert graphql("{ genres")["errors"]
    assert graphql("mutation { logout }")["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert http.post("/graphql", content=b"null").status_code == 400
    assert errors("GRAPHQL_VALIDATION_FAILED") == validation + 1
    assert errors("UNAUTHENTICATED") == unauthenticated + 1
    assert errors("BAD_REQUEST") == bad_request + 1


def test_login_failures_and_rate_limited_logins_are_counted(
    http: TestClient, value: Reader
) -> None:
    failures = value("movierec_login_failures_total", {})
    limited = value("movierec_rate_limited_total", {"limit": "login"})
    graphql = GraphQL(http)
    wrong = graphql(LOGIN, {"u": "user3", "p": "wrong password"})
    assert wrong["data"]["login"]["__typename"] == "InvalidCredentials"
    assert http.post("/login", json={"username": "nobody", "password": "x"}).status_code == 400
    assert value("movierec_login_failures_total", {}) == failures + 2
    assert graphql.login("user3", DEMO_PASSWORD)
    assert value("movierec_login_failures_total", {}) == failures + 2

    for _ in range(5):  # the per-username limit of the default config
        graphql(LOGIN, {"u": "user4", "p": "wrong password"})
    refused = graphql(LOGIN, {"u": "user4", "p": DEMO_PASSWORD})
    assert refused["data"]["login"]["__typename"] == "TooManyAttempts"
    assert value("movierec_login_failures_total", {}) == failures + 7
    assert value("movierec_rate_limited_total", {"limit": "login"}) == limited + 1


def test_store_statements_are_timed(http: TestClient, value: Reader) -> None:
    select = {"statement": "select"}
    before = value("movierec_store_query_duration_seconds_count", select)
    assert http.get("/user/1/movies").status_code == 200
    assert value("movierec_store_query_duration_seconds_count", select) > before


def test_the_store_is_timed_once_however_many_apps_share_it(
    config: AppConfig, services: Services, value: Reader
) -> None:
    create_app(config, services)  # a second app on the same engine
    select = {"statement": "select"}
    with services.engine.connect() as conn:
        before = value("movierec_store_query_duration_seconds_count", select)
        conn.exec_driver_sql("SELECT 1")
    assert value("movierec_store_query_duration_seconds_count", select) == before + 1


def test_the_served_model_and_the_fallback_are_published(
    config: AppConfig, store: Engine, recommender: Recommender
) -> None:
    with store.connect() as conn:
        catalog = np.array([row[0] for row in conn.exec_driver_sql("SELECT id FROM movies")])
    recommender.save(config.models_dir, {"catalog_fingerprint": catalog_fingerprint(catalog)})
    loaded = load_recommender(store, config.models_dir)
    created = datetime.fromisoformat(loaded.meta["created"]).timestamp()
    with TestClient(create_app(config, build_services(config, loaded))) as client:
        published = scrape(client)
    assert published[("movierec_model_version_timestamp_seconds", ())] == created
    assert published[("movierec_popularity_fallback", ())] == 0

    fallback = load_recommender(store, config.models_dir / "empty")
    with TestClient(create_app(config, build_services(config, fallback))) as client:
        published = scrape(client)
    assert published[("movierec_model_version_timestamp_seconds", ())] == 0
    assert published[("movierec_popularity_fallback", ())] == 1


WRITER = """
import sys
from graph import metrics

metrics.LOGIN_FAILURES.inc({failures})
metrics.MODEL_VERSION.set({version})
metrics.POPULARITY_FALLBACK.set({fallback})
print("written", flush=True)
sys.stdin.read()  # stays alive until the test closes its stdin
"""


def _writer(folder: Path, failures: int, version: int, fallback: int) -> subprocess.Popen[str]:
    code = textwrap.dedent(WRITER).format(failures=failures, version=version, fallback=fallback)
    process = subprocess.Popen(
        [sys.executable, "-c", code],
        cwd=PROJECT_ROOT,
        env={"PATH": "/usr/bin:/bin", metrics.MULTIPROCESS_DIR_VARIABLE: str(folder)},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    assert process.stdout.readline() == "written\n"
    return process


def _finish(process: subprocess.Popen[str]) -> None:
    process.communicate("")
    assert process.returncode == 0


def test_a_scrape_adds_up_the_processes_sharing_a_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = _writer(tmp_path, failures=2, version=100, fallback=0)
    second = _writer(tmp_path, failures=3, version=200, fallback=1)
    monkeypatch.setattr(metrics, "_SHARED_DIR", str(tmp_path))
    try:
        both = samples(metrics.exposition().decode())
        assert both[("movierec_login_failures_total", ())] == 5
        versions = {
            labels: value
            for (name, labels), value in both.items()
            if name == "movierec_model_version_timestamp_seconds"
        }
        assert versions == {
            (("pid", str(first.pid)),): 100,
            (("pid", str(second.pid)),): 200,
        }
        assert both[("movierec_popularity_fallback", ())] == 1

        _finish(second)
        # The exited process's requests still count; its live gauges no longer do.
        after = samples(metrics.exposition().decode())
        assert after[("movierec_login_failures_total", ())] == 5
        assert after[("movierec_model_version_timestamp_seconds", (("pid", str(first.pid)),))]
        assert ("movierec_model_version_timestamp_seconds", (("pid", str(second.pid)),)) not in (
            after
        )
        assert after[("movierec_popularity_fallback", ())] == 0
    finally:
        for process in (first, second):
            if process.returncode is None:
                _finish(process)


def test_several_workers_get_a_fresh_folder_for_the_run_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.delenv(metrics.MULTIPROCESS_DIR_VARIABLE, raising=False)
    with shared_metrics_dir(1):
        assert metrics.MULTIPROCESS_DIR_VARIABLE not in os.environ  # one worker: in memory
    with shared_metrics_dir(2):
        folder = Path(os.environ[metrics.MULTIPROCESS_DIR_VARIABLE])
        assert folder.parent == tmp_path
        assert list(folder.iterdir()) == []
        (folder / "counter_1.db").write_bytes(b"")
    assert not folder.exists()
    assert metrics.MULTIPROCESS_DIR_VARIABLE not in os.environ
