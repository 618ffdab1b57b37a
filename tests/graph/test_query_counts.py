"""The SQL statements each served path costs, counted exactly, on SQLite and on PostgreSQL.

The bench (``bench/api_load.py``) measures what these paths cost in time; this pins down the part
that must not creep back: a statement built per request, a look-up a cache or an earlier query
already answered. Movie rows are cached per worker, so a path is counted once warm (what it costs
at steady state) and, where it reads movies, once cold.
"""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from httpx import Response

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


def cold_then_warm(
    http: TestClient, services: Services, path: str
) -> tuple[list[str], list[str], Response]:
    """``path`` asked twice: the statements of the first (cold) and second (warm) request, and
    the answer, which must be the same both times."""
    with counted(services.engine) as cold:
        first = http.get(path)
    with counted(services.engine) as warm:
        again = http.get(path)
    assert first.status_code == again.status_code == 200
    assert again.content == first.content
    return cold, warm, first


def test_legacy_recommendations_cost_one_statement_warm(
    http: TestClient, services: Services
) -> None:
    cold, warm, first = cold_then_warm(http, services, "/user/1/recommendations")
    assert len(first.json()["movies"]) == 10
    # Warm, the cached list's check: the user's version of their ratings and watchlist, one
    # row by key, and no rating read. Cold, the version; then the version, the ratings (packed
    # into one string) and the watchlist (saved movies leave the list) in one statement; once
    # per worker, movies and genres.
    assert tables(warm) == ["user_versions"]
    assert "ratings" not in warm[0]
    assert tables(cold) == ["user_versions", "user_versions", "movies", "movie_genres"]
    assert "ratings" in cold[1]
    assert "watchlist" in cold[1]


def test_legacy_movies_cost_one_statement_warm(http: TestClient, services: Services) -> None:
    cold, warm, first = cold_then_warm(http, services, "/user/1/movies")
    assert len(first.json()["movies"]) == 12
    assert tables(warm) == ["ratings"]
    assert tables(cold) == ["ratings", "movies", "movie_genres"]


def test_viewer_recommendations_cost_one_statement_warm(gql: GraphQL, services: Services) -> None:
    token = gql.login("user1")
    with counted(services.engine) as cold:
        first = gql(RECOMMENDATIONS, token=token)
    with counted(services.engine) as warm:
        again = gql(RECOMMENDATIONS, token=token)
    assert again == first
    assert len(first["data"]["viewer"]["recommendations"]) == 10
    # The token's check: its holder's row and the revocation list in one statement, which
    # brings the viewer's username and the version the cached list is checked against.
    (check,) = warm
    assert all(table in check for table in ("FROM users", "revoked_tokens", "user_versions"))
    assert "FROM ratings" not in check
    # Cold, the same check; the version, ratings and watchlist in one statement; the movies.
    assert cold[0] == check
    assert tables(cold[1:]) == ["user_versions", "movies", "movie_genres"]
    assert "ratings" in cold[1]


def test_the_viewer_alone_costs_the_token_check(gql: GraphQL, services: Services) -> None:
    token = gql.login("user3")
    with counted(services.engine) as statements:
        result = gql("{ viewer { id username } }", token=token)
    assert result == {"data": {"viewer": {"id": 3, "username": "user3"}}}
    (check,) = statements
    assert "FROM users" in check
    assert "revoked_tokens" in check


def test_signed_out_the_viewer_costs_nothing(gql: GraphQL, services: Services) -> None:
    with counted(services.engine) as statements:
        result = gql("{ viewer { id username } }")
    assert result == {"data": {"viewer": None}}
    assert statements == []


SIMILAR_OF_A_LIST = "{ featured(first: 6) { id similar(first: 4) { id title } } }"


def test_the_similar_movies_of_a_list_cost_one_model_call_and_one_movie_read(
    gql: GraphQL, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each movie's ``similar`` went to a thread alone, so their movie rows arrived in as many
    ticks as there were movies, each tick its own read; batched, the lists come back together
    and their rows load in one statement."""
    gql("{ featured(first: 6) { id } }")  # the featured movies' own rows, read and cached
    calls: list[list[tuple[int, int]]] = []
    similar_lists = services.recommendations.similar_lists

    def spied(asked: list[tuple[int, int]]) -> list[list[int]]:
        calls.append(asked)
        return similar_lists(asked)

    monkeypatch.setattr(services.recommendations, "similar_lists", spied)
    with counted(services.engine) as statements:
        result = gql(SIMILAR_OF_A_LIST)
    listed = result["data"]["featured"]
    assert len(listed) == 6
    assert all(len(movie["similar"]) == 4 for movie in listed)
    # The similar movies not cached yet, in one read of their rows and one of their genres.
    assert tables(statements).count("movies") == 1
    assert tables(statements).count("movie_genres") == 1
    assert [[first for _, first in asked] for asked in calls] == [[4] * 6]
    assert {movie_id for movie_id, _ in calls[0]} == {int(movie["id"]) for movie in listed}
