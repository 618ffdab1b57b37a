"""The SQL statements each served path costs, counted exactly, on SQLite and on PostgreSQL.

The bench (``bench/api_load.py``) measures what these paths cost in time; this pins down the part
that must not creep back: a statement built per request, a look-up a cache or an earlier query
already answered. Movie rows are cached per worker, so a path is counted once warm (what it costs
at steady state) and, where it reads movies, once cold.
"""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from graph.services.bundle import Services
from tests.graph.conftest import GraphQL
from tests.graph.test_limits import counted

RECOMMENDATIONS = "{ viewer { recommendations(first: 10) { id title posterUrl } } }"


def tables(statements: list[str]) -> list[str]:
    """The table each statement reads first (its first FROM), in order."""
    return [_first_table(statement) for statement in statements]


def _first_table(statement: str) -> str:
    match = re.search(r"\bFROM (\w+)", statement)
    return match.group(1) if match else statement


def test_legacy_recommendations_cost_two_statements_warm(
    http: TestClient, services: Services
) -> None:
    with counted(services.engine) as cold:
        first = http.get("/user/1/recommendations")
    with counted(services.engine) as warm:
        again = http.get("/user/1/recommendations")
    assert first.status_code == again.status_code == 200
    assert again.content == first.content
    assert len(first.json()["movies"]) == 10
    # The user's watchlist (saved movies leave the list) and ratings, packed into one row, on
    # one connection; once per worker before that, movies and genres.
    assert tables(warm) == ["watchlist", "ratings"]
    assert tables(cold) == ["watchlist", "ratings", "movies", "movie_genres"]


def test_legacy_movies_cost_one_statement_warm(http: TestClient, services: Services) -> None:
    with counted(services.engine) as cold:
        first = http.get("/user/1/movies")
    with counted(services.engine) as warm:
        again = http.get("/user/1/movies")
    assert again.content == first.content
    assert len(first.json()["movies"]) == 12
    assert tables(warm) == ["ratings"]
    assert tables(cold) == ["ratings", "movies", "movie_genres"]


def test_viewer_recommendations_cost_three_statements_warm(
    gql: GraphQL, services: Services
) -> None:
    token = gql.login("user1")
    with counted(services.engine) as cold:
        first = gql(RECOMMENDATIONS, token=token)
    with counted(services.engine) as warm:
        again = gql(RECOMMENDATIONS, token=token)
    assert again == first
    assert len(first["data"]["viewer"]["recommendations"]) == 10
    # The token's check (its holder's row and the revocation list in one statement, which
    # brings the viewer's username too), then the viewer's watchlist and ratings.
    assert tables(warm) == ["users", "watchlist", "ratings"]
    assert "revoked_tokens" in warm[0]
    assert tables(cold) == ["users", "watchlist", "ratings", "movies", "movie_genres"]


def test_the_viewer_alone_costs_the_token_check(gql: GraphQL, services: Services) -> None:
    token = gql.login("user3")
    with counted(services.engine) as statements:
        result = gql("{ viewer { id username } }", token=token)
    assert result == {"data": {"viewer": {"id": 3, "username": "user3"}}}
    assert tables(statements) == ["users"]
    assert "revoked_tokens" in statements[0]


def test_signed_out_the_viewer_costs_nothing(gql: GraphQL, services: Services) -> None:
    with counted(services.engine) as statements:
        result = gql("{ viewer { id username } }")
    assert result == {"data": {"viewer": None}}
    assert statements == []
