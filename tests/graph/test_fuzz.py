"""Property-based fuzzing of both front ends: whatever arrives, never a 5xx, never a masked bug.

A 500 or an ``INTERNAL_SERVER_ERROR`` means input reached code that did not expect it (lone
surrogates reached SQLite and argon2 that way, found by fuzzing). GraphQL documents come from
the schema itself (hypothesis-graphql), valid ones and ones with one violation each; the legacy
paths and raw bodies from plain Hypothesis strategies, invalid Unicode included.

Derandomized with a fixed example budget, so CI runs the same 2,200 examples every time and a
failure reproduces; the whole module takes under two minutes on a loaded CI machine.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import Mode, mutations, queries

from data.db import open_store
from data.ratings import ratings_frame
from graph.app import create_app
from graph.config import AppConfig, GraphQLLimits
from graph.schema import build_schema
from graph.services.bundle import Services, build_services
from recommender.models.puresvd import PureSVDParams
from recommender.models.temporal import TemporalParams
from recommender.models.temporal_blend import TemporalBlendParams
from recommender.training import ServedConfig, fit_recommender
from tests.graph.conftest import LOGIN, populate

SCHEMA = build_schema(GraphQLLimits())._schema
SIGN_UP = """mutation($u: String!, $p: String!) { signUp(username: $u, password: $p) {
  __typename ... on AuthPayload { token } } }"""


def fuzzed(examples: int) -> settings:
    return settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, Services]]:
    """One app for all examples (SQLite only: the fuzzed layer is above the store)."""
    folder = tmp_path_factory.mktemp("fuzz")
    config = AppConfig(
        database_url=f"sqlite:///{folder / 'store.sqlite3'}",
        models_dir=folder / "models",
        secret_key="fuzz-secret-" + "x" * 40,
        web_dir=None,
        # High enough that every fuzzed login reaches the store and the hasher.
        login_failures_per_username=10**9,
        login_failures_per_address=10**9,
        # A deadline no example meets on a slow machine (TIMEOUT is a deliberate 503, tested in
        # test_limits), and a small cost budget, so examples stay cheap and CI time steady.
        limits=GraphQLLimits(deadline_seconds=3600, max_cost=5_000),
    )
    engine = open_store(config.database_url, create=True)
    populate(engine)
    with engine.connect() as conn:
        frame = ratings_frame(conn)
    engine.dispose()
    served = ServedConfig(
        ranker=PureSVDParams(factors=4),
        rating=TemporalBlendParams(TemporalParams(factors=4, epochs=6)),
    )
    services = build_services(config, fit_recommender(frame, served, seed=1))
    with TestClient(create_app(config, services)) as client:
        yield client, services
    services.engine.dispose()


def assert_no_server_error(response: Any) -> None:
    assert response.status_code < 500, response.text
    if not response.headers.get("content-type", "").startswith("application/json"):
        return
    body = response.json()
    for result in body if isinstance(body, list) else [body]:
        for error in result.get("errors") or []:
            assert error["extensions"]["code"] != "INTERNAL_SERVER_ERROR", result


def post_graphql(client: TestClient, body: Any, token: str | None = None) -> None:
    """Encoded here, not by the client: its encoder cannot write lone surrogates."""
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    response = client.post("/graphql", content=json.dumps(body).encode(), headers=headers)
    assert_no_server_error(response)


# Any character, lone surrogates too (text() never makes them, characters() only if asked);
# json.dumps escapes them as \udXXX.
ANY_TEXT = st.lists(st.characters() | st.characters(categories=["Cs"]), max_size=40).map("".join)
JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | ANY_TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(ANY_TEXT, inner, max_size=4),
    max_leaves=12,
)


@fuzzed(700)
@given(document=queries(SCHEMA, codec=None))
def test_fuzzed_queries(app: tuple[TestClient, Services], document: str) -> None:
    post_graphql(app[0], {"query": document})


@fuzzed(400)
@given(
    document=queries(SCHEMA, codec=None, mode=Mode.NEGATIVE)
    | mutations(SCHEMA, codec=None, mode=Mode.NEGATIVE)
)
def test_fuzzed_invalid_documents(app: tuple[TestClient, Services], document: str) -> None:
    post_graphql(app[0], {"query": document})


@fuzzed(250)
@given(document=mutations(SCHEMA, codec=None), signed_in=st.booleans())
def test_fuzzed_mutations(app: tuple[TestClient, Services], document: str, signed_in: bool) -> None:
    """A fresh token per example: a fuzzed ``logout`` revokes only its own."""
    client, services = app
    token = services.accounts.signer.issue(1).token if signed_in else None
    post_graphql(client, {"query": document}, token)


CREDENTIALS = st.fixed_dictionaries({"u": ANY_TEXT, "p": ANY_TEXT}) | st.dictionaries(
    st.sampled_from(["u", "p", "x"]), JSON_VALUES, max_size=3
)


@fuzzed(250)
@given(variables=CREDENTIALS, operation=st.sampled_from([LOGIN, SIGN_UP]))
def test_fuzzed_variables(
    app: tuple[TestClient, Services], variables: dict[str, Any], operation: str
) -> None:
    post_graphql(app[0], {"query": operation, "variables": variables})


@fuzzed(300)
@given(
    body=st.binary(max_size=200)
    | JSON_VALUES.map(lambda value: json.dumps(value).encode())
    | CREDENTIALS.map(
        lambda value: json.dumps({"username": value.get("u"), "password": value.get("p")}).encode()
    ),
    path=st.sampled_from(["/login", "/graphql"]),
)
def test_fuzzed_bodies(app: tuple[TestClient, Services], body: bytes, path: str) -> None:
    response = app[0].post(path, content=body, headers={"Content-Type": "application/json"})
    assert_no_server_error(response)


@fuzzed(300)
@given(
    segment=ANY_TEXT,
    route=st.sampled_from(["/user/{}/movies", "/user/{}/recommendations", "/{}", "/graphql/{}"]),
    authorization=st.text(st.characters(max_codepoint=255, exclude_characters="\r\n"), max_size=60),
)
def test_fuzzed_paths_and_headers(
    app: tuple[TestClient, Services], segment: str, route: str, authorization: str
) -> None:
    """Paths percent-encode any text, invalid UTF-8 included; headers carry any Latin-1."""
    path = route.format(quote(segment.encode("utf-8", "surrogatepass"), safe=""))
    headers = {b"authorization": authorization.strip().encode("latin-1")}
    assert_no_server_error(app[0].get(path, headers=headers))
    assert_no_server_error(
        app[0].post("/graphql", json={"query": "{ viewer { id } }"}, headers=headers)
    )


def test_the_fuzzers_reach_the_resolvers(app: tuple[TestClient, Services], tmp_path: Path) -> None:
    """A guard on the fuzzers themselves: generated queries do get answered, not all refused."""
    answered = []

    @fuzzed(30)
    @given(document=queries(SCHEMA, fields=["genres", "movie"]))
    def run(document: str) -> None:
        result = app[0].post("/graphql", json={"query": document}).json()
        answered.append("data" in result and result["data"] is not None)

    run()
    assert any(answered)
