"""A small store built in tmp_path, a tiny trained recommender, and the app around them."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, insert

from data.passwords import hash_password
from data.ratings import ratings_frame
from data.schema import genres, movie_genres, movies, ratings, users
from graph.app import create_app
from graph.config import AppConfig
from graph.services.bundle import Services, build_services
from recommender.models.puresvd import PureSVDParams
from recommender.models.rating import SVDParams
from recommender.serving import Recommender
from recommender.training import ServedConfig, fit_recommender

GENRES = ["Action", "Comedy", "Drama", "Sci-Fi"]
MOVIES = 30
USERS = 8
NO_GENRES_MOVIE = 30  # "(no genres listed)" in MovieLens: no genre rows
BARE_MOVIE = 29  # no TMDB metadata at all: every optional field NULL
UNRATED_MOVIES = (29, 30)
DEMO_PASSWORD = "pass"


def movie_row(movie_id: int) -> dict[str, Any]:
    bare = movie_id == BARE_MOVIE
    return {
        "id": movie_id,
        "title": f"Film {movie_id}",
        "movielens_title": f"Film {movie_id} ({1980 + movie_id})",
        "year": 1980 + movie_id,
        "imdb_id": None if bare else f"tt{movie_id:07d}",
        "tmdb_id": None if bare else 1000 + movie_id,
        "original_title": None if bare else f"Original {movie_id}",
        "overview": None if bare else f'Overview of film {movie_id}, with "quotes" and é.',
        "poster_path": None if bare else f"/poster{movie_id}.jpg",
        "backdrop_path": None if movie_id % 2 or bare else f"/backdrop{movie_id}.jpg",
    }


def movie_genre_names(movie_id: int) -> list[str]:
    """Two or one genres per movie, deliberately not in alphabetical order."""
    if movie_id == NO_GENRES_MOVIE:
        return []
    first = GENRES[movie_id % 4]
    second = GENRES[(movie_id + 3) % 4]
    return [first, second] if movie_id % 3 else [first]


def populate(engine: Engine) -> None:
    rng = np.random.default_rng(7)
    password_hash = hash_password(DEMO_PASSWORD)
    with engine.begin() as conn:
        conn.execute(insert(movies), [movie_row(m) for m in range(1, MOVIES + 1)])
        conn.execute(insert(genres), [{"id": i + 1, "name": n} for i, n in enumerate(GENRES)])
        conn.execute(
            insert(movie_genres),
            [
                {"movie_id": m, "genre_id": GENRES.index(name) + 1, "position": position}
                for m in range(1, MOVIES + 1)
                for position, name in enumerate(movie_genre_names(m))
            ],
        )
        conn.execute(
            insert(users),
            [
                {"id": u, "username": f"user{u}", "password_hash": password_hash, "is_demo": True}
                for u in range(1, USERS + 1)
            ],
        )
        rows = []
        rated_movies = np.arange(1, MOVIES - len(UNRATED_MOVIES) + 1)
        for user_id in range(1, USERS + 1):
            chosen = rng.choice(rated_movies, size=12, replace=False)
            for index, movie_id in enumerate(chosen):
                rows.append(
                    {
                        "user_id": user_id,
                        "movie_id": int(movie_id),
                        "rating": float(rng.integers(1, 11)) / 2,
                        "rated_at": 1_500_000_000 + user_id * 10_000 + index * 100,
                    }
                )
        conn.execute(insert(ratings), rows)


@pytest.fixture
def store(engine: Engine) -> Engine:
    populate(engine)
    return engine


@pytest.fixture
def recommender(store: Engine) -> Recommender:
    with store.connect() as conn:
        frame = ratings_frame(conn)
    config = ServedConfig(
        ranker=PureSVDParams(factors=4), rating=SVDParams(n_factors=4, n_epochs=10)
    )
    return fit_recommender(frame, config, seed=1)


@pytest.fixture
def config(store_url: str, tmp_path: Path) -> AppConfig:
    return AppConfig(
        database_url=store_url,
        models_dir=tmp_path / "models",
        secret_key="test-secret-" + "x" * 40,
        web_dir=None,
    )


@pytest.fixture
def services(config: AppConfig, store: Engine, recommender: Recommender) -> Iterator[Services]:
    built = build_services(config, recommender)
    yield built
    built.engine.dispose()


@pytest.fixture
def http(config: AppConfig, services: Services) -> Iterator[TestClient]:
    with TestClient(create_app(config, services)) as client:
        yield client


@dataclass
class GraphQL:
    """Posts operations the way the web app does; returns the decoded response body."""

    http: TestClient

    def __call__(
        self, query: str, variables: dict[str, Any] | None = None, token: str | None = None
    ) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = self.http.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
        )
        assert response.status_code == 200, response.text
        return response.json()

    def login(self, username: str = "user1", password: str = DEMO_PASSWORD) -> str:
        result = self(LOGIN, {"u": username, "p": password})
        assert result["data"]["login"]["__typename"] == "AuthPayload", result
        return result["data"]["login"]["token"]


LOGIN = """
mutation($u: String!, $p: String!) {
  login(username: $u, password: $p) {
    __typename
    ... on AuthPayload { token expiresAt user { id username } }
    ... on InvalidCredentials { code message }
    ... on TooManyAttempts { code message retryAfterSeconds }
  }
}
"""


@pytest.fixture
def gql(http: TestClient) -> GraphQL:
    return GraphQL(http)


def error_codes(result: dict[str, Any]) -> list[str]:
    return [error["extensions"]["code"] for error in result.get("errors", [])]
