"""Tokens, per-user isolation and the failed-login limit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from data.schema import ratings, users
from graph.config import AppConfig
from graph.services.ratelimit import FailureWindow
from graph.services.tokens import TokenSigner
from tests.graph.conftest import LOGIN, GraphQL, error_codes


def test_token_round_trip_and_rejections(config: AppConfig) -> None:
    signer = TokenSigner(config.secret_key, 60)
    issued = signer.issue(7)
    assert signer.user_id(issued.token) == 7
    assert issued.expires_at > datetime.now(UTC)
    other = TokenSigner("another-secret-" + "y" * 40, 60)
    assert other.user_id(issued.token) is None
    head, body, signature = issued.token.split(".")
    assert signer.user_id(f"{head}.{body}.{signature[::-1]}") is None
    assert signer.user_id("not.a.token") is None
    unsigned = jwt.encode({"sub": "7", "aud": "movierec", "exp": 9999999999}, None, "none")
    assert signer.user_id(unsigned) is None


def test_expired_token_signs_nobody_in(gql: GraphQL, config: AppConfig) -> None:
    expired = jwt.encode(
        {"sub": "1", "aud": "movierec", "exp": datetime.now(UTC) - timedelta(seconds=5)},
        config.secret_key,
        "HS256",
    )
    assert gql("{ viewer { id } }", token=expired) == {"data": {"viewer": None}}
    assert error_codes(gql("{ recommendations { id } }", token=expired)) == ["UNAUTHENTICATED"]


def test_short_secret_is_refused() -> None:
    with pytest.raises(ValueError, match="32 characters"):
        TokenSigner("short", 60)


def test_authorization_header_must_be_bearer(http: TestClient, gql: GraphQL) -> None:
    token = gql.login()
    for header in (token, f"Basic {token}", "Bearer", "Bearer "):
        response = http.post(
            "/graphql", json={"query": "{ viewer { id } }"}, headers={"Authorization": header}
        )
        assert response.json() == {"data": {"viewer": None}}
    response = http.post(
        "/graphql",
        json={"query": "{ viewer { id } }"},
        headers={"Authorization": f"bearer {token}"},
    )
    assert response.json() == {"data": {"viewer": {"id": 1}}}


def test_a_user_reads_and_writes_only_their_own_ratings(gql: GraphQL, store: Engine) -> None:
    token = gql.login("user6")
    query = "{ viewer { id ratings(first: 100) { edges { node { movie { id } } } } } }"
    viewer = gql(query, token=token)["data"]["viewer"]
    with store.connect() as conn:
        own = set(conn.execute(select(ratings.c.movie_id).where(ratings.c.user_id == 6)).scalars())
        others_before = conn.execute(
            select(ratings).where(ratings.c.user_id != 6).order_by(ratings.c.user_id)
        ).all()
    assert viewer["id"] == 6
    assert {edge["node"]["movie"]["id"] for edge in viewer["ratings"]["edges"]} == own
    movie = next(iter(own))
    gql(
        "mutation($m: Int!) { rateMovie(movieId: $m, rating: 0.5) { __typename } }",
        {"m": movie},
        token=token,
    )
    gql(
        "mutation($m: Int!) { removeRating(movieId: $m) { __typename } }", {"m": movie}, token=token
    )
    with store.connect() as conn:
        others_after = conn.execute(
            select(ratings).where(ratings.c.user_id != 6).order_by(ratings.c.user_id)
        ).all()
    assert others_after == others_before


def test_failed_logins_are_limited_per_username(gql: GraphQL, config: AppConfig) -> None:
    for _ in range(config.login_failures_per_username):
        result = gql(LOGIN, {"u": "user2", "p": "wrong"})["data"]["login"]
        assert result["__typename"] == "InvalidCredentials"
    blocked = gql(LOGIN, {"u": "USER2", "p": "pass"})["data"]["login"]
    assert blocked["__typename"] == "TooManyAttempts"
    assert blocked["code"] == "TOO_MANY_ATTEMPTS"
    assert 0 < blocked["retryAfterSeconds"] <= config.login_window_seconds
    assert str(blocked["retryAfterSeconds"]) in blocked["message"]
    assert gql.login("user3")  # other accounts are unaffected


def test_failed_logins_are_limited_per_address(gql: GraphQL, config: AppConfig) -> None:
    for attempt in range(config.login_failures_per_address):
        gql(LOGIN, {"u": f"nobody{attempt}", "p": "wrong"})
    blocked = gql(LOGIN, {"u": "user4", "p": "pass"})["data"]["login"]
    assert blocked["__typename"] == "TooManyAttempts"


def test_failure_window_slides() -> None:
    now = [1000.0]
    window = FailureWindow(2, 60, clock=lambda: now[0])
    window.record_failure("k")
    now[0] += 30
    window.record_failure("k")
    assert window.retry_after("k") == 30
    now[0] += 30.5
    assert window.retry_after("k") == 0
    window.record_failure("k")
    assert window.retry_after("k") > 0
    window.reset("k")
    assert window.retry_after("k") == 0


def test_passwords_are_stored_hashed(gql: GraphQL, store: Engine) -> None:
    gql('mutation { signUp(username: "hashed", password: "secret password") { __typename } }')
    with store.connect() as conn:
        stored = conn.execute(
            select(users.c.password_hash).where(users.c.username == "hashed")
        ).scalar_one()
    assert stored.startswith("$argon2id$")
    assert "secret password" not in stored
