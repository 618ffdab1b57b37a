"""Request limits, malformed requests, masked errors and the constant SQL cost of a page."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event, insert

from data.schema import movies, ratings
from graph.config import AppConfig
from graph.services.bundle import Services
from tests.graph.conftest import GraphQL, error_codes, movie_row


def test_depth_limit(gql: GraphQL, config: AppConfig) -> None:
    nested = "id"
    for _ in range(config.limits.max_query_depth + 1):
        nested = f"id similar(first: 1) {{ {nested} }}"
    result = gql(f"{{ movie(id: 1) {{ {nested} }} }}")
    assert result["data"] is None
    assert set(error_codes(result)) == {"GRAPHQL_VALIDATION_FAILED"}
    assert all("maximum operation depth" in error["message"] for error in result["errors"])


def test_alias_limit(gql: GraphQL, config: AppConfig) -> None:
    aliases = " ".join(f"a{n}: genres" for n in range(config.limits.max_aliases + 1))
    result = gql(f"{{ {aliases} }}")
    assert error_codes(result) == ["GRAPHQL_VALIDATION_FAILED"]
    assert "aliases" in result["errors"][0]["message"]
    allowed = " ".join(f"a{n}: genres" for n in range(config.limits.max_aliases))
    assert "errors" not in gql(f"{{ {allowed} }}")


def test_token_limit(gql: GraphQL, config: AppConfig) -> None:
    fields = " ".join(["__typename"] * config.limits.max_tokens)
    result = gql(f"{{ {fields} }}")
    assert error_codes(result) == ["GRAPHQL_VALIDATION_FAILED"]
    assert "token" in result["errors"][0]["message"].lower()


def test_batches_are_capped(http: TestClient, config: AppConfig) -> None:
    allowed = [{"query": "{ genres }"}] * config.limits.max_batch_operations
    response = http.post("/graphql", json=allowed)
    assert response.status_code == 200
    assert len(response.json()) == config.limits.max_batch_operations
    response = http.post("/graphql", json=[*allowed, {"query": "{ genres }"}])
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b"{bad json", 400),
        (b"\xff\xfe not utf-8", 400),
        (b"null", 400),
        (b"[]", 400),
        (b"[1, 2]", 400),
        (b'"just a string"', 400),
        (b'{"query": 5}', 400),
        (b'{"query": "{ genres }", "variables": [1]}', 400),
        (b"{}", 400),
        (b"[" * 100_000 + b"]" * 100_000, 400),
        (b'{"query": "{ genres }", "variables": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", 400),
        (b'{"query": "' + b"x" * 1_000_001 + b'"}', 413),
    ],
)
def test_malformed_requests_get_json_errors(http: TestClient, body: bytes, status: int) -> None:
    response = http.post("/graphql", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == status
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "BAD_REQUEST"
    assert error["message"]


def test_unsupported_content_type_and_get_mutation(http: TestClient) -> None:
    response = http.post("/graphql", content=b"{ genres }", headers={"Content-Type": "text/plain"})
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    response = http.get("/graphql", params={"query": "mutation { logout }"})
    assert response.status_code in {400, 405}
    assert response.json()["errors"]


def test_get_queries_and_graphiql(http: TestClient) -> None:
    response = http.get("/graphql", params={"query": "{ genres }"})
    assert response.json()["data"]["genres"]
    page = http.get("/graphql", headers={"Accept": "text/html"})
    assert page.status_code == 200
    assert "graphiql" in page.text.lower()


def test_unexpected_errors_are_masked_and_logged(
    gql: GraphQL,
    services: Services,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken() -> list[str]:
        raise RuntimeError("SELECT password_hash FROM users -- leaked?")

    monkeypatch.setattr(services.catalog, "genres", broken)
    with caplog.at_level(logging.ERROR, logger="graph.errors"):
        result = gql("{ genres }")
    assert result["errors"] == [
        {
            "message": "Internal server error.",
            "locations": [{"line": 1, "column": 3}],
            "path": ["genres"],
            "extensions": {"code": "INTERNAL_SERVER_ERROR"},
        }
    ]
    assert "password_hash" in caplog.text
    assert "Traceback" in caplog.text


@contextmanager
def counted(engine: Engine) -> Iterator[list[str]]:
    statements: list[str] = []

    def record(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


PAGE = """query($first: Int!) { viewer { ratings(first: $first) { totalCount edges { node {
  rating ratedAt movie { id title genres posterUrl ratingStats { average count }
  viewerRating predictedRating } } } } } }"""


def test_a_page_of_100_ratings_costs_a_constant_number_of_statements(
    gql: GraphQL, services: Services
) -> None:
    extra = range(101, 221)
    with services.engine.begin() as conn:
        conn.execute(insert(movies), [movie_row(m) for m in extra])
        conn.execute(
            insert(ratings),
            [
                {"user_id": 8, "movie_id": m, "rating": 3.0, "rated_at": 1_600_000_000 + m}
                for m in extra
            ],
        )
    token = gql.login("user8")
    with counted(services.engine) as small:
        few = gql(PAGE, {"first": 5}, token=token)
    with counted(services.engine) as large:
        many = gql(PAGE, {"first": 100}, token=token)
    assert len(few["data"]["viewer"]["ratings"]["edges"]) == 5
    assert len(many["data"]["viewer"]["ratings"]["edges"]) == 100
    assert len(large) == len(small)
    # The signed-in request checks its token against the revocation list exactly once; the
    # page itself (viewer, ratings, movies, genres, stats, prediction inputs) stays within 8.
    revocation_checks = [s for s in large if "revoked_tokens" in s]
    assert len(revocation_checks) == 1, large
    assert len(large) - len(revocation_checks) <= 8, large
