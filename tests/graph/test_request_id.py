"""The X-Request-ID header: kept when sane, replaced otherwise, returned on every route."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from graph.app import create_app
from graph.assets import web_app_dir
from graph.config import AppConfig
from graph.request_id import MAX_LENGTH, choose_request_id
from graph.services.bundle import Services
from tests.graph.conftest import break_rated_movies

GENERATED = re.compile(r"[0-9a-f]{32}")


@pytest.fixture
def everything(config: AppConfig, services: Services) -> TestClient:
    """The app with the web folder too, so static files are among the routes."""
    web = AppConfig(**{**config.__dict__, "web_dir": web_app_dir()})
    return TestClient(create_app(web, services))


# (method, path, JSON body, Accept): GraphQL, GraphiQL, legacy, probes, metrics, the web app.
ROUTES = [
    ("POST", "/graphql", {"query": "{ genres }"}, None),
    ("GET", "/graphql", None, "text/html"),
    ("POST", "/login", {"username": "nobody", "password": "x"}, None),
    ("GET", "/user/1/movies", None, None),
    ("GET", "/user/1/recommendations", None, None),
    ("GET", "/healthz", None, None),
    ("GET", "/readyz", None, None),
    ("GET", "/metrics", None, None),
    ("GET", "/", None, None),
    ("GET", "/app.js", None, None),
    ("GET", "/no/such/file", None, None),
]
Body = dict[str, str] | None


def _request(
    client: TestClient, method: str, path: str, body: Body, accept: str | None, **headers: str
) -> str:
    if accept:
        headers["accept"] = accept
    response = client.request(method, path, json=body, headers=headers)
    return response.headers["x-request-id"]


@pytest.mark.parametrize(("method", "path", "body", "accept"), ROUTES)
def test_every_route_returns_a_sane_incoming_id(
    everything: TestClient, method: str, path: str, body: Body, accept: str | None
) -> None:
    sent = {"X-Request-ID": "req-42.a:b_C"}
    assert _request(everything, method, path, body, accept, **sent) == "req-42.a:b_C"


@pytest.mark.parametrize(("method", "path", "body", "accept"), ROUTES)
def test_every_route_makes_an_id_when_none_is_sent(
    everything: TestClient, method: str, path: str, body: Body, accept: str | None
) -> None:
    assert GENERATED.fullmatch(_request(everything, method, path, body, accept))


@pytest.mark.parametrize(
    "insane",
    [
        "x" * (MAX_LENGTH + 1),
        "two words",
        "semi;colon",
        'quote"d',
        "<script>",
        "",
        "caf\u00e9",
    ],
)
def test_an_insane_id_is_replaced(insane: str) -> None:
    chosen = choose_request_id(insane)
    assert chosen != insane
    assert GENERATED.fullmatch(chosen)


def test_an_insane_id_is_replaced_on_the_wire(http: TestClient) -> None:
    too_long = "a" * (MAX_LENGTH + 1)
    for sent in (too_long, "bad id!", "a/b"):
        returned = http.get("/healthz", headers={"X-Request-ID": sent}).headers["x-request-id"]
        assert returned != sent
        assert GENERATED.fullmatch(returned)
    assert (
        http.get("/healthz", headers={"X-Request-ID": "a" * MAX_LENGTH}).headers["x-request-id"]
        == "a" * MAX_LENGTH
    )


def test_each_request_gets_its_own_id(http: TestClient) -> None:
    ids = {http.get("/healthz").headers["x-request-id"] for _ in range(5)}
    assert len(ids) == 5


def test_a_500_carries_the_id_and_the_legacy_body_is_unchanged(
    services: Services, config: AppConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    break_rated_movies(services, monkeypatch, RuntimeError("boom"))
    with TestClient(create_app(config, services), raise_server_exceptions=False) as client:
        response = client.get("/user/1/movies", headers={"X-Request-ID": "failing-1"})
    assert response.status_code == 500
    assert response.headers["x-request-id"] == "failing-1"
    assert response.content == b'{"message":"Internal server error.","movies":[],"status":500}'


def test_legacy_bodies_are_byte_identical_with_or_without_an_id(http: TestClient) -> None:
    for path in ("/user/1/movies", "/user/1/recommendations", "/user/abc/movies"):
        plain = http.get(path)
        with_id = http.get(path, headers={"X-Request-ID": "abc"})
        assert plain.content == with_id.content
        assert plain.status_code == with_id.status_code
