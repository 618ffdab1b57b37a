"""Attempt limits kept in the store: shared by workers, atomic under bursts, bounded in size."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import uvicorn
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from data.db import make_engine
from data.schema import rate_limits
from graph.app import create_app
from graph.config import AppConfig
from graph.server import run_server
from graph.services.bundle import build_services
from graph.services.ratelimit import MAX_VALUE_LENGTH, AttemptLimits, Limit
from recommender.serving import Recommender
from tests.graph.conftest import LOGIN, GraphQL

SIGN_UP = """
mutation($u: String!, $p: String!) {
  signUp(username: $u, password: $p) {
    __typename
    ... on TooManyAttempts { code message retryAfterSeconds }
  }
}
"""


def keys(store: Engine) -> dict[str, int]:
    with store.connect() as conn:
        return dict(conn.execute(select(rate_limits.c.key, rate_limits.c.count)).all())


def test_window_opens_with_the_first_attempt_and_closes_after_its_length(store: Engine) -> None:
    now = [1000.0]
    limits = AttemptLimits(store, clock=lambda: now[0])
    limit = Limit("test", 2, 60)
    assert limits.take((limit, "k")) == 0
    now[0] += 30
    assert limits.take((limit, "k")) == 0
    assert limits.take((limit, "k")) == 30  # third in the window: wait until it closes
    now[0] += 29
    assert limits.take((limit, "k")) == 1
    now[0] += 1  # the window closed: a new one opens with this attempt
    assert limits.take((limit, "k")) == 0
    assert limits.take((limit, "k")) == 0
    assert limits.take((limit, "k")) == 60
    limits.clear(limit, "k")
    assert limits.take((limit, "k")) == 0


def test_any_key_over_its_limit_refuses_and_the_longest_wait_is_given(store: Engine) -> None:
    now = [1000.0]
    limits = AttemptLimits(store, clock=lambda: now[0])
    short, long = Limit("short", 1, 10), Limit("long", 1, 100)
    assert limits.take((short, "a"), (long, "b")) == 0
    assert limits.take((short, "a"), (long, "c")) == 10
    assert limits.take((short, "z"), (long, "b")) == 100
    assert limits.take((short, "a"), (long, "b")) == 100


def test_closed_windows_are_purged_by_the_next_attempt(store: Engine) -> None:
    now = [1000.0]
    limits = AttemptLimits(store, clock=lambda: now[0])
    limit = Limit("test", 5, 60)
    for index in range(50):
        limits.take((limit, f"address-{index}"))
    assert len(keys(store)) == 50
    now[0] += 60
    limits.take((limit, "newcomer"))
    assert keys(store) == {"test:newcomer": 1}


def test_keys_have_a_maximum_length(store: Engine) -> None:
    limits = AttemptLimits(store)
    with pytest.raises(ValueError, match="at most 64"):
        limits.take((Limit("test", 5, 60), "x" * (MAX_VALUE_LENGTH + 1)))
    assert keys(store) == {}


def test_a_burst_from_two_workers_gets_exactly_the_limit_through(
    store: Engine, store_url: str
) -> None:
    """32 concurrent attempts, half through each of two engines (two worker processes'
    pools), against a limit of 10: the count is read by the statement that writes it."""
    other_worker = make_engine(store_url)
    try:
        workers = [AttemptLimits(store), AttemptLimits(other_worker)]
        limit = Limit("burst", 10, 300)
        with ThreadPoolExecutor(16) as pool:
            waits = list(pool.map(lambda i: workers[i % 2].take((limit, "k")), range(32)))
    finally:
        other_worker.dispose()
    assert sum(wait == 0 for wait in waits) == 10
    assert keys(store) == {"burst:k": 32}


def test_two_workers_share_the_failed_login_limit(
    config: AppConfig, store: Engine, recommender: Recommender, gql: GraphQL
) -> None:
    """Failures split over two apps (as over two uvicorn workers) add up to one limit."""
    second = build_services(config, recommender)
    try:
        with TestClient(create_app(config, second)) as other_http:
            other = GraphQL(other_http)
            for attempt in range(config.login_failures_per_address):
                via = gql if attempt % 2 else other
                assert via(LOGIN, {"u": f"nobody{attempt}", "p": "x"})["data"]["login"][
                    "__typename"
                ] == ("InvalidCredentials")
            for via in (gql, other):
                result = via(LOGIN, {"u": "user4", "p": "pass"})["data"]["login"]
                assert result["__typename"] == "TooManyAttempts"
    finally:
        second.engine.dispose()


def test_successful_logins_do_not_count_against_the_address(
    gql: GraphQL, config: AppConfig
) -> None:
    allowed = config.login_failures_per_address
    for attempt in range(allowed - 1):
        gql(LOGIN, {"u": f"nobody{attempt}", "p": "wrong"})
    for user in range(1, 6):
        assert gql.login(f"user{user}")
    assert gql(LOGIN, {"u": "nobody", "p": "wrong"})["data"]["login"]["__typename"] == (
        "InvalidCredentials"
    )
    blocked = gql(LOGIN, {"u": "user6", "p": "pass"})["data"]["login"]
    assert blocked["__typename"] == "TooManyAttempts"


def test_a_huge_username_never_becomes_a_key(gql: GraphQL, store: Engine) -> None:
    """No account has such a name: it fails before any bookkeeping (issue 9: length limits
    apply before hashing, lookup or rate-limit records), so nothing is stored for it."""
    huge = "u" * 200_000
    result = gql(LOGIN, {"u": huge, "p": "wrong"})["data"]["login"]
    assert result["__typename"] == "InvalidCredentials"
    assert keys(store) == {}


def test_forwarded_for_is_not_the_client_address(http: TestClient, config: AppConfig) -> None:
    """Each X-Forwarded-For value would otherwise be a fresh per-address bucket."""
    gql = GraphQL(http)
    for attempt in range(config.login_failures_per_address):
        http.headers["X-Forwarded-For"] = f"10.0.0.{attempt}"
        gql(LOGIN, {"u": f"nobody{attempt}", "p": "wrong"})
    http.headers["X-Forwarded-For"] = "10.0.1.1"
    assert gql(LOGIN, {"u": "user4", "p": "pass"})["data"]["login"]["__typename"] == (
        "TooManyAttempts"
    )


@pytest.mark.parametrize(
    ("trusted", "expected"),
    [
        ("", {"proxy_headers": False, "forwarded_allow_ips": ""}),
        ("10.0.0.5", {"proxy_headers": True, "forwarded_allow_ips": "10.0.0.5"}),
    ],
)
def test_proxy_headers_are_believed_only_from_trusted_proxies(
    monkeypatch: pytest.MonkeyPatch, trusted: str, expected: dict[str, Any]
) -> None:
    """uvicorn's own default believes 127.0.0.1 and the FORWARDED_ALLOW_IPS variable."""
    monkeypatch.setenv("FORWARDED_ALLOW_IPS", "*")
    seen: dict[str, Any] = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: seen.update(options))
    run_server(
        "m:f", host="127.0.0.1", port=1, workers=1, log_level="info", trusted_proxies=trusted
    )
    assert {name: seen[name] for name in expected} == expected


def test_sign_ups_are_limited_per_address_taken_names_included(
    gql: GraphQL, config: AppConfig, store: Engine
) -> None:
    for attempt in range(config.signups_per_address):
        name = "user1" if attempt % 2 else f"newcomer{attempt}"  # probing a taken name counts
        result = gql(SIGN_UP, {"u": name, "p": "long enough"})["data"]["signUp"]
        assert result["__typename"] in {"AuthPayload", "UsernameTaken"}
    blocked = gql(SIGN_UP, {"u": "onemore", "p": "long enough"})["data"]["signUp"]
    assert blocked["__typename"] == "TooManyAttempts"
    assert blocked["code"] == "TOO_MANY_ATTEMPTS"
    assert 0 < blocked["retryAfterSeconds"] <= config.signup_window_seconds
    with store.connect() as conn:
        from data.schema import users

        assert (
            conn.execute(
                select(func.count()).select_from(users).where(users.c.username == "onemore")
            ).scalar_one()
            == 0
        )
