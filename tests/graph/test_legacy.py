"""The iOS app's REST endpoints: exact bytes, the app's decoders, and every kind of bad input."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from data.schema import ratings
from graph.app import create_app
from graph.config import AppConfig
from graph.services.bundle import Services
from recommender.serving import Recommender, UserRatings
from tests.graph.conftest import (
    BARE_MOVIE,
    NO_GENRES_MOVIE,
    USERS,
    break_rated_movies,
    movie_genre_names,
    movie_row,
)

MOVIE_KEYS = [
    "backdrop_path",
    "genres",
    "movieId",
    "original_title",
    "overview",
    "poster_path",
    "title",
]


def decode_like_the_ios_app(body: bytes) -> dict[str, Any]:
    """The Swift decoders' requirements: status/userId Int, message String?, movies an array;
    per movie movieId Int, title and genres String, every other field String or null."""
    envelope = json.loads(body)
    assert isinstance(envelope["status"], int)
    assert isinstance(envelope["movies"], list)
    assert envelope.get("message") is None or isinstance(envelope["message"], str)
    if "userId" in envelope:
        assert isinstance(envelope["userId"], int)
    for movie in envelope["movies"]:
        assert list(movie) == MOVIE_KEYS
        assert isinstance(movie["movieId"], int)
        assert isinstance(movie["title"], str)
        assert isinstance(movie["genres"], str)
        for key in ("backdrop_path", "original_title", "overview", "poster_path"):
            assert movie[key] is None or isinstance(movie[key], str)
    return envelope


def test_login_success_is_byte_exact(http: TestClient) -> None:
    response = http.post("/login", json={"username": "user3", "password": "pass"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.content == b'{"message":"Success","movies":[],"status":200,"userId":3}'


@pytest.mark.parametrize(
    "credentials",
    [
        {"username": "user3", "password": "wrong"},
        {"username": "nobody", "password": "pass"},
        {"username": "", "password": ""},
    ],
)
def test_login_failure_is_byte_exact(http: TestClient, credentials: dict[str, str]) -> None:
    response = http.post("/login", json=credentials)
    assert response.status_code == 400
    assert response.content == (
        b'{"message":"Username or Password Not Found","movies":[],"status":400}'
    )


@pytest.mark.parametrize(
    "body",
    [
        b"[]",
        b"null",
        b'["user1", "pass"]',
        b"{not json",
        b"",
        b"\xff\xfe",
        b'{"username": "user1"}',
        b'{"username": 1, "password": "pass"}',
        b'{"username": "user1", "password": null}',
        b'"user1"',
        b"[" * 100_000 + b"]" * 100_000,
    ],
)
def test_login_bad_bodies_get_a_json_400(http: TestClient, body: bytes) -> None:
    response = http.post("/login", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    envelope = decode_like_the_ios_app(response.content)
    assert envelope["status"] == 400
    assert envelope["movies"] == []
    assert envelope["message"]


def test_login_is_rate_limited_with_429(http: TestClient, config: AppConfig) -> None:
    for _ in range(config.login_failures_per_username):
        http.post("/login", json={"username": "user2", "password": "wrong"})
    response = http.post("/login", json={"username": "user2", "password": "pass"})
    assert response.status_code == 429
    envelope = decode_like_the_ios_app(response.content)
    assert envelope["status"] == 429
    assert int(response.headers["Retry-After"]) > 0


def test_user_movies_lists_each_rated_movie_once(http: TestClient, store: Engine) -> None:
    with store.connect() as conn:
        rated = conn.execute(
            select(ratings.c.movie_id)
            .where(ratings.c.user_id == 2)
            .order_by(ratings.c.rated_at, ratings.c.movie_id)
        ).scalars()
        expected_ids = list(rated)
    response = http.get("/user/2/movies")
    assert response.status_code == 200
    envelope = decode_like_the_ios_app(response.content)
    assert list(envelope) == ["message", "movies", "status", "userId"]
    assert envelope["message"] == "Success"
    assert envelope["userId"] == 2
    assert [movie["movieId"] for movie in envelope["movies"]] == expected_ids
    first = envelope["movies"][0]
    row = movie_row(first["movieId"])
    assert first == {
        "backdrop_path": row["backdrop_path"],
        "genres": "|".join(movie_genre_names(first["movieId"])),
        "movieId": row["id"],
        "original_title": row["original_title"],
        "overview": row["overview"],
        "poster_path": row["poster_path"],
        "title": row["movielens_title"],
    }


def test_movie_json_matches_flask_jsonify(http: TestClient, services: Services) -> None:
    """Compact, sorted, ASCII-escaped like Flask's jsonify; NULL as null and never NaN."""
    services.ratings.rate(1, BARE_MOVIE, 4.0)
    services.ratings.rate(1, NO_GENRES_MOVIE, 4.0)
    body = http.get("/user/1/movies").content
    flask_bytes = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")).encode()
    assert body == flask_bytes
    assert b"NaN" not in body
    assert b"\\u00e9" in body  # é escaped, as Flask's ensure_ascii did
    movies = {m["movieId"]: m for m in decode_like_the_ios_app(body)["movies"]}
    assert movies[BARE_MOVIE]["overview"] is None
    assert movies[BARE_MOVIE]["poster_path"] is None
    assert movies[NO_GENRES_MOVIE]["genres"] == "(no genres listed)"
    assert b'"overview":null' in body


@pytest.mark.parametrize("path", ["/user/{}/movies", "/user/{}/recommendations"])
def test_unknown_user_is_success(http: TestClient, recommender: Recommender, path: str) -> None:
    response = http.get(path.format(USERS + 100))
    assert response.status_code == 200
    envelope = decode_like_the_ios_app(response.content)
    assert envelope["userId"] == USERS + 100
    if path.endswith("movies"):
        assert envelope["movies"] == []
    else:
        cold = [movie_id for movie_id, _ in recommender.top_n(UserRatings.empty(), 10)]
        assert [movie["movieId"] for movie in envelope["movies"]] == cold


def test_recommendations_are_the_served_models(
    http: TestClient, services: Services, recommender: Recommender
) -> None:
    response = http.get("/user/3/recommendations")
    envelope = decode_like_the_ios_app(response.content)
    expected = services.recommendations.for_user(3, 10)
    assert [movie["movieId"] for movie in envelope["movies"]] == expected
    assert len(expected) == 10
    rated = set(services.ratings.rated_movie_ids(3))
    assert not rated & set(expected)


@pytest.mark.parametrize("user_id", ["abc", "-1", "1.5", "1e3", "９", "9" * 30, "%00"])
@pytest.mark.parametrize("path", ["/user/{}/movies", "/user/{}/recommendations"])
def test_bad_user_ids_get_a_json_404(http: TestClient, path: str, user_id: str) -> None:
    response = http.get(path.format(user_id))
    assert response.status_code == 404
    envelope = decode_like_the_ios_app(response.content)
    assert envelope["status"] == 404
    assert envelope["message"]


def test_the_shim_can_be_switched_off(config: AppConfig, services: Services) -> None:
    off = AppConfig(**{**config.__dict__, "legacy_api": False})
    with TestClient(create_app(off, services)) as client:
        assert client.get("/user/1/movies").status_code == 404
        assert client.post(
            "/login", json={"username": "user1", "password": "pass"}
        ).status_code in {
            404,
            405,
        }
        assert client.post("/graphql", json={"query": "{ genres }"}).status_code == 200


def test_huge_credentials_are_refused_without_hashing(
    http: TestClient, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    hashed: list[str] = []
    monkeypatch.setattr(
        "graph.services.accounts.verify_password", lambda *args: hashed.append("x") or False
    )
    response = http.post("/login", json={"username": "u" * 100_000, "password": "p" * 100_000})
    assert response.status_code == 400
    assert response.json()["message"] == "Username or Password Not Found"
    assert hashed == []


def test_unexpected_errors_are_a_json_500(
    services: Services, config: AppConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    break_rated_movies(services, monkeypatch, RuntimeError("SELECT secret FROM somewhere"))
    with TestClient(create_app(config, services), raise_server_exceptions=False) as client:
        response = client.get("/user/1/movies")
    assert response.status_code == 500
    assert response.json() == {"message": "Internal server error.", "movies": [], "status": 500}
    assert b"SELECT" not in response.content


@pytest.mark.parametrize(
    "body",
    [
        b'{"username": "user1\\ud800", "password": "pass"}',
        b'{"username": "user1", "password": "\\udfffpass"}',
        b'{"username": "user1", "password": "pass", "\\ud800": 1}',
    ],
    ids=["username", "password", "key"],
)
def test_login_with_lone_surrogates_is_a_json_400(
    http: TestClient, body: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Once a 500: SQLite and argon2 cannot encode a lone surrogate; now nothing sees it."""
    monkeypatch.setattr("graph.services.accounts.verify_password", pytest.fail)
    response = http.post("/login", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    envelope = decode_like_the_ios_app(response.content)
    assert envelope["status"] == 400
    assert "lone UTF-16 surrogate" in envelope["message"]


def test_oversized_credentials_leave_no_failed_login_behind(
    http: TestClient, config: AppConfig
) -> None:
    """Length limits come before the failed-login windows: a 100 KB name is no key to keep."""
    for _ in range(config.login_failures_per_address + 1):
        response = http.post("/login", json={"username": "u" * 100_000, "password": "p"})
        assert response.status_code == 400
    response = http.post("/login", json={"username": "user1", "password": "pass"})
    assert response.status_code == 200


def test_login_bodies_are_capped_while_they_arrive(http: TestClient, config: AppConfig) -> None:
    limit = config.limits.max_body_bytes

    def streamed() -> Any:
        yield b'{"username": "'
        for _ in range(limit // 65_536 + 1):
            yield b"u" * 65_536
        yield b'", "password": "pass"}'

    response = http.post("/login", content=streamed(), headers={"Content-Type": "application/json"})
    assert response.status_code == 413
    assert response.content == (
        b'{"message":"request body over %s bytes","movies":[],"status":413}' % f"{limit:,}".encode()
    )
