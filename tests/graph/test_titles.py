"""Display titles through the API; the legacy shim keeps MovieLens' titles byte for byte."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select, update

from data.schema import movies, ratings
from tests.graph.conftest import GraphQL

# Catalogue rows are cached per worker, so the titles are set before the app reads any.
TITLES = {
    1: ("Godfather, The (a.k.a. Big Don)", "Godfather, The (a.k.a. Big Don) (1981)"),
    2: (
        "City of Lost Children, The (Cité des enfants perdus, La)",
        "City of Lost Children, The (Cité des enfants perdus, La) (1982) ",
    ),
    3: ("Atalante, L'", "Atalante, L' (1983)"),
}


@pytest.fixture
def titled(store: Engine) -> Engine:
    with store.begin() as conn:
        for movie_id, (title, movielens_title) in TITLES.items():
            conn.execute(
                update(movies)
                .where(movies.c.id == movie_id)
                .values(title=title, movielens_title=movielens_title)
            )
    return store


FIELDS = "id title displayTitle alsoKnownAs movielensTitle year"


def test_movie_titles(titled: Engine, gql: GraphQL) -> None:
    query = (
        "{ "
        + " ".join(f"{k}: movie(id: {i}) {{ {FIELDS} }}" for i, k in enumerate("abcd", 1))
        + " }"
    )
    data = gql(query)["data"]
    assert data["a"] == {
        "id": 1,
        "title": "Godfather, The (a.k.a. Big Don)",  # unchanged meaning for existing clients
        "displayTitle": "The Godfather",
        "alsoKnownAs": ["Big Don"],
        "movielensTitle": "Godfather, The (a.k.a. Big Don) (1981)",
        "year": 1981,
    }
    assert data["b"]["displayTitle"] == "The City of Lost Children"
    assert data["b"]["alsoKnownAs"] == ["La Cité des enfants perdus"]
    assert data["b"]["movielensTitle"].endswith("(1982) ")  # byte for byte, space included
    assert data["c"]["displayTitle"] == "L'Atalante"
    assert data["d"] == {
        "id": 4,
        "title": "Film 4",
        "displayTitle": "Film 4",
        "alsoKnownAs": [],
        "movielensTitle": "Film 4 (1984)",
        "year": 1984,
    }


@pytest.mark.parametrize(
    ("search", "expected"),
    [
        ("the godfather", {1}),
        ("GODFATHER, THE", {1}),
        ("big don", {1}),
        ("l'atalante", {3}),
        ("cité des", {2}),
    ],
)
def test_search_finds_display_and_filed_titles(
    titled: Engine, gql: GraphQL, search: str, expected: set[int]
) -> None:
    query = "query($s: String) { movies(search: $s, first: 100) { edges { node { id } } } }"
    edges = gql(query, {"s": search})["data"]["movies"]["edges"]
    assert {edge["node"]["id"] for edge in edges} == expected


def test_the_legacy_shim_keeps_movielens_titles_byte_for_byte(
    titled: Engine, http: TestClient
) -> None:
    with titled.connect() as conn:
        raters = conn.execute(
            select(ratings.c.user_id, ratings.c.movie_id).where(ratings.c.movie_id.in_(TITLES))
        ).all()
    assert {movie_id for _, movie_id in raters} == set(TITLES)  # each title is shown somewhere
    for user_id, movie_id in raters:
        response = http.get(f"/user/{user_id}/movies")
        assert response.status_code == 200
        shown = {
            movie["movieId"]: movie["title"] for movie in json.loads(response.content)["movies"]
        }
        assert shown[movie_id] == TITLES[movie_id][1]
        # The exact bytes json.dumps writes for the stored title: no display form slipped in.
        assert json.dumps(TITLES[movie_id][1], separators=(",", ":")).encode() in response.content
