"""Request limits, malformed requests, masked errors and the constant SQL cost of a page."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from threading import Event
from typing import Any

import pytest
from fastapi.testclient import TestClient
from graphql import SelectionSetNode
from sqlalchemy import Engine, event, insert

from data.schema import movies, ratings
from graph import cost, limits
from graph.app import create_app
from graph.config import AppConfig
from graph.services.bundle import Services
from tests.graph.conftest import LOGIN, GraphQL, error_codes, movie_row


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


def fragment_bomb(fragments: int) -> str:
    """The issue's 900-byte query: each fragment spreads the next twice, 2^22 leaves expanded."""
    chain = " ".join(
        f"fragment F{n} on Query {{ ...F{n + 1} ...F{n + 1} }}" for n in range(fragments - 1)
    )
    return f"query {{ ...F0 }} {chain} fragment F{fragments - 1} on Query {{ genres }}"


def test_a_fragment_bomb_is_walked_once_per_fragment(
    gql: GraphQL, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each limit walks each definition once, however often it is spread.

    Counted, not timed: expanded, this document has 2^22 spreads and took 42 s to validate.
    The cost and the fields at each place are counted on the answer as graphql-core merges it:
    every spread of ``genres`` answers at one place, so they meet one field, once each.
    """
    walked: list[str] = []
    shape_of, collect = limits.shape_of, limits.collect

    def counted_shape(selection_set: SelectionSetNode, *args: Any) -> limits.Shape:
        walked.append("shape")
        return shape_of(selection_set, *args)

    def counted_collect(*args: Any) -> limits.Collected:
        fields = collect(*args)
        walked.extend("field" for same_name in fields.values() for _ in same_name)
        return fields

    monkeypatch.setattr(limits, "shape_of", counted_shape)
    monkeypatch.setattr(limits, "collect", counted_collect)
    monkeypatch.setattr(cost, "collect", counted_collect)
    query = fragment_bomb(23)
    assert len(query) < 1000
    result = gql(query)
    assert "errors" not in result
    assert result["data"]["genres"]
    definitions = 23 + 1
    assert walked.count("shape") == definitions
    assert walked.count("field") == 2  # once by the crowding check, once by the cost


def test_aliases_in_a_fragment_count_at_every_spread(gql: GraphQL, config: AppConfig) -> None:
    """Walking a fragment once must not count its aliases once: 2^22 spreads, 2^22 aliases."""
    query = fragment_bomb(23).replace("{ genres }", "{ a: genres }")
    result = gql(query)
    assert error_codes(result) == ["GRAPHQL_VALIDATION_FAILED"]
    assert result["errors"][0]["message"] == (
        f"{2**22:,} aliases found. Allowed: {config.limits.max_aliases}".replace(",", "")
    )


def test_depth_through_fragments(gql: GraphQL, config: AppConfig) -> None:
    """Depth adds up through spreads: a fragment 6 deep spread 5 deep is 11 deep."""
    six = "id similar(first: 1) { " * 6 + "id" + " }" * 6
    five = "similar(first: 1) { " * 4 + "...Deep" + " }" * 4
    query = f"query Q {{ movie(id: 1) {{ {five} }} }} fragment Deep on Movie {{ {six} }}"
    result = gql(query)
    assert config.limits.max_query_depth == 10
    assert result["errors"][0]["message"] == "'Q' exceeds maximum operation depth of 10"
    shallower = query.replace("similar(first: 1) { ...Deep }", "...Deep")
    assert "errors" not in gql(shallower)


def test_fragment_cycles_are_reported_not_followed(gql: GraphQL) -> None:
    result = gql("{ ...A } fragment A on Query { genres ...B } fragment B on Query { ...A }")
    assert set(error_codes(result)) == {"GRAPHQL_VALIDATION_FAILED"}
    assert any("Cannot spread fragment" in error["message"] for error in result["errors"])


@pytest.fixture
def blocked_genres(services: Services, monkeypatch: pytest.MonkeyPatch) -> Iterator[Event]:
    """``genres`` blocks its thread until the test ends: slower than any deadline."""
    release = Event()

    def slow() -> list[str]:
        release.wait()
        return ["Drama"]

    monkeypatch.setattr(services.catalog, "genres", slow)
    yield release
    release.set()


def test_a_request_past_its_deadline_answers_timeout_and_frees_the_worker(
    config: AppConfig, services: Services, blocked_genres: Event
) -> None:
    fast = replace(config, limits=replace(config.limits, deadline_seconds=0.05))
    with TestClient(create_app(fast, services)) as client:
        response = client.post("/graphql", json={"query": "{ genres }"})
        assert response.status_code == 503
        error = response.json()["errors"][0]
        assert error["extensions"]["code"] == "TIMEOUT"
        assert "0.05 s deadline" in error["message"]
        # The blocked call may still hold its thread, yet the worker answers other requests.
        assert client.get("/healthz").status_code == 200
        movie = client.post("/graphql", json={"query": "{ movie(id: 1) { title } }"})
        assert movie.json() == {"data": {"movie": {"title": "Film 1"}}}


def test_a_batch_shares_one_deadline(
    config: AppConfig, services: Services, blocked_genres: Event
) -> None:
    fast = replace(config, limits=replace(config.limits, deadline_seconds=0.05))
    batch = [{"query": "{ movie(id: 1) { title } }"}, {"query": "{ genres }"}]
    with TestClient(create_app(fast, services)) as client:
        response = client.post("/graphql", json=batch)
    assert response.status_code == 503
    assert response.json()["errors"][0]["extensions"]["code"] == "TIMEOUT"


def chunks(body: bytes, size: int = 65_536) -> Iterator[bytes]:
    """A body streamed in chunks: sent without Content-Length (chunked transfer encoding)."""
    for start in range(0, len(body), size):
        yield body[start : start + size]


def test_a_streamed_body_over_the_limit_is_refused_while_it_arrives(
    http: TestClient, config: AppConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    parsed: list[object] = []
    monkeypatch.setattr("graph.router.loads", lambda data: parsed.append(data))
    limit = config.limits.max_body_bytes
    body = b'{"query": "' + b"x" * limit + b'"}'
    response = http.post(
        "/graphql", content=chunks(body), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert response.json()["errors"][0] == {
        "message": f"request body over {limit:,} bytes",
        "extensions": {"code": "BAD_REQUEST"},
    }
    assert parsed == []  # refused before any parsing


def test_a_declared_length_over_the_limit_is_refused_before_reading(
    http: TestClient, config: AppConfig
) -> None:
    limit = config.limits.max_body_bytes
    # Every route, even one that reads no body; the header alone decides.
    for path in ("/graphql", "/healthz", "/no-such-path"):
        response = http.post(path, content=b"x" * (limit + 1))
        assert response.status_code == 413, path
        assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


def test_a_body_at_the_limit_is_read(http: TestClient, config: AppConfig) -> None:
    padding = config.limits.max_body_bytes - len(b'{"query": "{ genres }"}')
    body = b'{"query": "{ genres }"}' + b" " * padding
    assert len(body) == config.limits.max_body_bytes
    response = http.post(
        "/graphql", content=chunks(body), headers={"Content-Type": "application/json"}
    )
    assert response.json()["data"]["genres"]


SURROGATES = [
    b'{"query": "{ genres }", "variables": {"x": "\\ud800"}}',
    b'{"query": "{ genres }", "variables": {"\\udfff": 1}}',
    b'{"query": "{ genres }", "operationName": "\\ud83d"}',
    b'{"query": "query($u: String!) { movies(search: $u) { totalCount } }",'
    b' "variables": {"u": "a\\ud800b"}}',
]


@pytest.mark.parametrize("body", SURROGATES)
def test_lone_surrogates_anywhere_in_the_body_are_a_400(http: TestClient, body: bytes) -> None:
    response = http.post("/graphql", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "BAD_REQUEST"
    assert "lone UTF-16 surrogate" in error["message"]


@pytest.mark.parametrize(
    "variables",
    [{"u": "user1\ud800", "p": "pass"}, {"u": "user1", "p": "\ud800pass"}],
    ids=["username", "password"],
)
def test_surrogates_in_login_and_sign_up_variables_are_a_400(
    http: TestClient, variables: dict[str, str]
) -> None:
    sign_up = (
        "mutation($u: String!, $p: String!) { signUp(username: $u, password: $p) { __typename } }"
    )
    for query in (LOGIN, sign_up):
        body = json.dumps({"query": query, "variables": variables}).encode()
        assert b"\\ud800" in body
        response = http.post("/graphql", content=body, headers={"Content-Type": "application/json"})
        assert response.status_code == 400
        assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


def test_surrogate_escapes_in_the_query_text_are_a_syntax_error(gql: GraphQL) -> None:
    result = gql('mutation { login(username: "\\ud800", password: "x") { __typename } }')
    assert error_codes(result) == ["GRAPHQL_VALIDATION_FAILED"]
    assert "Invalid Unicode escape sequence" in result["errors"][0]["message"]
