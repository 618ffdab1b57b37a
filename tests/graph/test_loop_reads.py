"""The request path's reads on the event loop (``data.db.LoopReads``): a warm recommendation
(legacy and GraphQL) and the token check take no trip to a thread, on SQLite and on PostgreSQL;
when the store cannot answer there, the same answers come through the threads, with the same
statements."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from data import db
from graph.services.bundle import Services
from graph.threads import BlockingCalls
from tests.graph.conftest import GraphQL, error_codes
from tests.graph.test_limits import counted
from tests.graph.test_query_counts import RECOMMENDATIONS, cold_then_warm, tables


@pytest.fixture
def trips(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the functions sent to a thread, in order."""
    sent: list[str] = []
    run = BlockingCalls.run

    async def recorded(self: BlockingCalls, fn: Callable[..., Any], *args: object) -> Any:
        sent.append(getattr(fn, "__name__", repr(fn)))
        return await run(self, fn, *args)

    monkeypatch.setattr(BlockingCalls, "run", recorded)
    return sent


async def _unanswered(_self: db.LoopReads, _query: object) -> db.Unanswered:
    return db.UNANSWERED


@pytest.fixture
def refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every read on the loop refused, as when the store is busy or not SQLite."""
    monkeypatch.setattr(db.LoopReads, "read", _unanswered)


def test_warm_recommendations_take_no_trip_to_a_thread(
    http: TestClient, gql: GraphQL, services: Services, trips: list[str]
) -> None:
    token = gql.login("user1")
    cold_legacy = http.get("/user/1/recommendations")
    cold_graphql = gql(RECOMMENDATIONS, token=token)
    trips.clear()
    with counted(services.engine) as warm:
        legacy = http.get("/user/1/recommendations")
        graphql = gql(RECOMMENDATIONS, token=token)
    assert legacy.content == cold_legacy.content
    assert graphql == cold_graphql
    # The same statements as through threads (test_query_counts), read where they are needed.
    # The legacy path's version; GraphQL's token check, which brings the version too.
    version, check = warm
    assert tables([version]) == ["user_versions"]
    assert "FROM users" in check
    assert "revoked_tokens" in check
    # PostgreSQL's reads too: a round trip the loop awaits on its own connection.
    assert trips == []


def test_warm_rated_movies_are_read_on_the_loop_on_postgresql(
    http: TestClient, services: Services, trips: list[str]
) -> None:
    """One row there (``data.ratings.rated_movie_ids_packed``); SQLite's rows take the thread."""
    cold = http.get("/user/1/movies")
    trips.clear()
    with counted(services.engine) as warm:
        again = http.get("/user/1/movies")
    assert again.content == cold.content
    assert len(again.json()["movies"]) == 12
    assert tables(warm) == ["ratings"]
    on_postgresql = services.engine.dialect.name == "postgresql"
    assert trips == ([] if on_postgresql else ["<lambda>"])


@pytest.mark.usefixtures("refused")
def test_refused_reads_give_the_same_answers_and_statements(
    http: TestClient, gql: GraphQL, services: Services, trips: list[str]
) -> None:
    token = gql.login("user1")
    cold, warm, first = cold_then_warm(http, services, "/user/1/recommendations")
    assert len(first.json()["movies"]) == 10
    assert tables(warm) == ["user_versions"]
    assert tables(cold) == ["user_versions", "user_versions", "movies", "movie_genres"]
    with counted(services.engine) as graphql:
        result = gql(RECOMMENDATIONS, token=token)
    ids = [movie["id"] for movie in result["data"]["viewer"]["recommendations"]]
    assert ids == [movie["movieId"] for movie in first.json()["movies"]]
    # The token's check in a thread, which brings the version the cached list is checked
    # against: no read of its own.
    (check,) = graphql
    assert "FROM users" in check
    assert trips[-1:] == ["holder"]


@pytest.mark.parametrize("on_loop", [True, False])
def test_a_signed_out_token_is_refused_either_way(
    gql: GraphQL, monkeypatch: pytest.MonkeyPatch, on_loop: bool
) -> None:
    token = gql.login("user1")
    assert gql("{ viewer { username } }", token=token)["data"]["viewer"]["username"] == "user1"
    assert gql("mutation { logout }", token=token) == {"data": {"logout": True}}
    if not on_loop:
        monkeypatch.setattr(db.LoopReads, "read", _unanswered)
    assert gql("{ viewer { username } }", token=token) == {"data": {"viewer": None}}
    signed_in_only = "{ recommendations(first: 10) { id } }"
    assert error_codes(gql(signed_in_only, token=token)) == ["UNAUTHENTICATED"]
