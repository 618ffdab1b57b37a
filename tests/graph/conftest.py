"""A small store, a tiny trained recommender, and the app around them.

Every test that uses the store runs twice: on SQLite in tmp_path (the embedded default) and on
the PostgreSQL database ``MOVIEREC_TEST_POSTGRES_URL`` names (the growth path; CI starts one), so
a query that only works on one dialect fails here rather than in production.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, insert

from data.catalog import sync_user_id_sequence
from data.db import make_engine
from data.movies import catalog_movie_ids
from data.passwords import hash_password
from data.ratings import ratings_frame
from data.schema import genres, movie_genres, movies, ratings, users
from graph.app import create_app
from graph.config import AppConfig, GraphQLLimits
from graph.services.bundle import Services, build_services
from recommender.artifact import catalog_fingerprint
from recommender.models.puresvd import PureSVDParams
from recommender.models.temporal import TemporalParams
from recommender.models.temporal_blend import TemporalBlendParams
from recommender.serving import Recommender
from recommender.training import ServedConfig, fit_recommender
from tests.conftest import drop_every_table

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
        sync_user_id_sequence(conn)  # as the ETL does after its explicit ids


def _drop_tables(url: str) -> None:
    engine = make_engine(url)
    try:
        drop_every_table(engine)
    finally:
        engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The store's URL on each dialect; PostgreSQL's tables are dropped before and after."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.sqlite3'}"
        return
    url = os.environ.get("MOVIEREC_TEST_POSTGRES_URL")
    if not url:
        pytest.skip("MOVIEREC_TEST_POSTGRES_URL is not set: no PostgreSQL server to test against")
    _drop_tables(url)
    yield url
    _drop_tables(url)


@pytest.fixture
def store(engine: Engine) -> Engine:
    populate(engine)
    return engine


SMALL_MODEL = ServedConfig(
    ranker=PureSVDParams(factors=4), rating=TemporalBlendParams(TemporalParams(factors=4, epochs=6))
)


@pytest.fixture
def recommender(store: Engine) -> Recommender:
    with store.connect() as conn:
        frame = ratings_frame(conn)
    return fit_recommender(frame, SMALL_MODEL, seed=1)


def save_small_model(store: Engine, models_dir: Path, seed: int) -> None:
    """What `movierec train` leaves behind, in a fraction of its time: a loadable artifact."""
    with store.connect() as conn:
        frame, catalog = ratings_frame(conn), np.array(catalog_movie_ids(conn))
    model = fit_recommender(frame, SMALL_MODEL, seed=seed, catalog_movie_ids=catalog)
    model.save(models_dir, {"catalog_fingerprint": catalog_fingerprint(catalog)})


@pytest.fixture
def config(store_url: str, tmp_path: Path) -> AppConfig:
    return AppConfig(
        database_url=store_url,
        models_dir=tmp_path / "models",
        secret_key="test-secret-" + "x" * 40,
        web_dir=None,
        # The deadline's own tests set a short one (test_limits, test_errors); every other test's
        # request must not fail on a loaded CI machine because an argon2 hash took seconds.
        limits=GraphQLLimits(deadline_seconds=3600),
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


def break_rated_movies(
    services: Services, monkeypatch: pytest.MonkeyPatch, error: Exception
) -> None:
    """Make reading a user's rated movies (``GET /user/<id>/movies``) raise ``error`` wherever
    it is read: in a thread, or on the event loop (PostgreSQL)."""

    def broken(_user_id: int) -> list[int]:
        raise error

    async def broken_on_loop(user_id: int) -> list[int]:
        return broken(user_id)

    monkeypatch.setattr(services.ratings, "rated_movie_ids", broken)
    monkeypatch.setattr(services.ratings, "rated_movie_ids_on_loop", broken_on_loop)
