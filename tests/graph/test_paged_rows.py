"""Every home-screen row pages for its "See all": the rails through ``rail(name:)`` and the
recommendations through ``pagedRecommendations``, in the order of the row they extend."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Engine, select

from data.schema import ratings
from graph.pagination import encode_cursor
from tests.graph.conftest import GraphQL, error_codes

RAIL = """query($name: RailName!, $after: String) { rail(name: $name, first: 4, after: $after) {
  totalCount edges { cursor node { id } } pageInfo { hasNextPage endCursor } } }"""
RECOMMENDED = """query($after: String, $genre: String) {
  pagedRecommendations(first: 4, after: $after, genre: $genre) {
    totalCount edges { cursor node { id genres } } pageInfo { hasNextPage endCursor } } }"""
ROW_FIELDS = {"FEATURED": "featured", "TRENDING": "trending", "NEWLY_ADDED": "newlyAdded"}


def walk(
    gql: GraphQL, query: str, field: str, token: str | None = None, **variables: Any
) -> list[dict[str, Any]]:
    """Every node of a connection, page after page; checks the counts and cursors on the way."""
    nodes: list[dict[str, Any]] = []
    after = None
    while True:
        page = gql(query, {**variables, "after": after}, token=token)["data"][field]
        nodes += [edge["node"] for edge in page["edges"]]
        assert page["totalCount"] >= len(nodes)
        if not page["pageInfo"]["hasNextPage"]:
            assert page["totalCount"] == len(nodes)
            return nodes
        assert len(page["edges"]) == 4
        assert page["pageInfo"]["endCursor"] == page["edges"][-1]["cursor"]
        after = page["pageInfo"]["endCursor"]


@pytest.mark.parametrize("name", list(ROW_FIELDS))
def test_a_rail_pages_through_the_row_it_extends(gql: GraphQL, name: str) -> None:
    field = ROW_FIELDS[name]
    row = [movie["id"] for movie in gql(f"{{ {field}(first: 100) {{ id }} }}")["data"][field]]
    paged = [node["id"] for node in walk(gql, RAIL, "rail", name=name)]
    assert paged == row
    assert len(set(paged)) == len(paged)


def test_a_rail_page_past_its_end_is_empty(gql: GraphQL) -> None:
    result = gql(RAIL, {"name": "FEATURED", "after": encode_cursor(10_000)})["data"]["rail"]
    assert result["edges"] == []
    assert result["pageInfo"] == {"hasNextPage": False, "endCursor": None}
    assert result["totalCount"] > 0


@pytest.mark.parametrize("genre", [None, "Comedy"])
def test_recommendations_page_in_the_rows_order_without_rated_movies(
    gql: GraphQL, store: Engine, genre: str | None
) -> None:
    token = gql.login("user4")
    with store.connect() as conn:
        rated = set(
            conn.execute(select(ratings.c.movie_id).where(ratings.c.user_id == 4)).scalars()
        )
    nodes = walk(gql, RECOMMENDED, "pagedRecommendations", token=token, genre=genre)
    paged = [node["id"] for node in nodes]
    assert len(paged) > 4, "more than one page"
    assert len(set(paged)) == len(paged)
    assert not set(paged) & rated
    if genre is not None:
        assert all(genre in node["genres"] for node in nodes)
    row_query = "query($g: String) { recommendations(first: 5, genre: $g) { id } }"
    row = gql(row_query, {"g": genre}, token)["data"]["recommendations"]
    assert paged[:5] == [movie["id"] for movie in row]


def test_a_saved_movie_leaves_the_paged_recommendations(gql: GraphQL) -> None:
    token = gql.login("user3")
    before = [node["id"] for node in walk(gql, RECOMMENDED, "pagedRecommendations", token)]
    save = "mutation($m: Int!) { addToWatchlist(movieId: $m) { __typename } }"
    gql(save, {"m": before[5]}, token=token)
    after = [node["id"] for node in walk(gql, RECOMMENDED, "pagedRecommendations", token)]
    assert after == before[:5] + before[6:]


def test_paged_recommendations_need_a_viewer(gql: GraphQL) -> None:
    result = gql("{ pagedRecommendations { totalCount } }")
    assert error_codes(result) == ["UNAUTHENTICATED"]
    assert result["data"] is None


PAGE_ARGUMENTS = [
    ("first: 101", "between 0 and 100"),
    ("first: -1", "between 0 and 100"),
    ('after: "not-a-cursor"', "invalid cursor"),
    (f'after: "{encode_cursor(10**30)}"', "invalid cursor"),
]


@pytest.mark.parametrize(
    ("query", "fragment"),
    [
        *[(f"{{ rail(name: TRENDING, {a}) {{ totalCount }} }}", f) for a, f in PAGE_ARGUMENTS],
        *[(f"{{ pagedRecommendations({a}) {{ totalCount }} }}", f) for a, f in PAGE_ARGUMENTS],
        ('{ pagedRecommendations(genre: "Nope") { totalCount } }', "unknown genre"),
    ],
)
def test_bad_page_arguments(gql: GraphQL, query: str, fragment: str) -> None:
    result = gql(query, token=gql.login("user1"))
    assert error_codes(result) == ["BAD_USER_INPUT"]
    assert fragment in result["errors"][0]["message"]
