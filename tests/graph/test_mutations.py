"""Mutations: sign-up, login, logout, rating and un-rating, with every kind of bad input."""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pytest
from sqlalchemy import Engine, func, select

from data.schema import ratings, users
from recommender.serving import Recommender, UserRatings
from tests.graph.conftest import BARE_MOVIE, LOGIN, GraphQL, error_codes

SIGN_UP = """
mutation($u: String!, $p: String!) {
  signUp(username: $u, password: $p) {
    __typename
    ... on AuthPayload { token user { id username ratingCount } }
    ... on UsernameTaken { code message }
    ... on InvalidUsername { code message }
    ... on PasswordTooShort { code message minLength }
  }
}
"""

RATE = """
mutation($m: Int!, $r: Float!) {
  rateMovie(movieId: $m, rating: $r) {
    __typename
    ... on RatingPayload { rating movie { id viewerRating } viewer { ratingCount } }
    ... on MovieNotFound { code message }
    ... on InvalidRating { code message }
  }
}
"""

REMOVE = """
mutation($m: Int!) {
  removeRating(movieId: $m) {
    __typename
    ... on RatingPayload { rating movie { id viewerRating } viewer { ratingCount } }
    ... on MovieNotFound { code message }
  }
}
"""

RECOMMENDED = "{ recommendations(first: 10) { id } }"


def counts(engine: Engine) -> tuple[int, int]:
    with engine.connect() as conn:
        return (
            conn.execute(select(func.count()).select_from(users)).scalar_one(),
            conn.execute(select(func.count()).select_from(ratings)).scalar_one(),
        )


def test_login_returns_a_working_token(gql: GraphQL) -> None:
    result = gql(LOGIN, {"u": "User1", "p": "pass"})["data"]["login"]
    assert result["__typename"] == "AuthPayload"
    assert result["user"] == {"id": 1, "username": "user1"}
    viewer = gql("{ viewer { id } }", token=result["token"])
    assert viewer == {"data": {"viewer": {"id": 1}}}


@pytest.mark.parametrize(("username", "password"), [("user1", "wrong"), ("nobody", "pass")])
def test_login_failures_are_indistinguishable(gql: GraphQL, username: str, password: str) -> None:
    result = gql(LOGIN, {"u": username, "p": password})["data"]["login"]
    assert result == {
        "__typename": "InvalidCredentials",
        "code": "INVALID_CREDENTIALS",
        "message": "unknown username or wrong password",
    }


def test_sign_up_then_use_the_account(gql: GraphQL, store: Engine) -> None:
    result = gql(SIGN_UP, {"u": "new_user_1", "p": "long enough"})["data"]["signUp"]
    assert result["__typename"] == "AuthPayload"
    assert result["user"]["username"] == "new_user_1"
    assert result["user"]["ratingCount"] == 0
    assert gql.login("new_user_1", "long enough")


@pytest.mark.parametrize(
    ("username", "password", "typename"),
    [
        ("USER1", "long enough", "UsernameTaken"),
        ("user1", "long enough", "UsernameTaken"),
        ("ab", "long enough", "InvalidUsername"),
        ("a" * 31, "long enough", "InvalidUsername"),
        ("Capital", "long enough", "InvalidUsername"),
        ("with space", "long enough", "InvalidUsername"),
        ("emoji_😀", "long enough", "InvalidUsername"),
        ("x" * 100_000, "long enough", "InvalidUsername"),
        ("fresh_name", "short", "PasswordTooShort"),
    ],
)
def test_sign_up_refusals_store_nothing(
    gql: GraphQL, store: Engine, username: str, password: str, typename: str
) -> None:
    before = counts(store)
    result = gql(SIGN_UP, {"u": username, "p": password})["data"]["signUp"]
    assert result["__typename"] == typename
    assert result["code"]
    assert result["message"]
    if typename == "PasswordTooShort":
        assert result["minLength"] == 8
    assert counts(store) == before


def test_huge_password_is_a_clear_error(gql: GraphQL, store: Engine) -> None:
    before = counts(store)
    result = gql(SIGN_UP, {"u": "fresh_name", "p": "p" * 100_000})
    assert error_codes(result) == ["BAD_USER_INPUT"]
    login = gql(LOGIN, {"u": "user1", "p": "p" * 100_000})["data"]["login"]
    assert login["__typename"] == "InvalidCredentials"
    assert counts(store) == before


def test_logout_needs_a_viewer(gql: GraphQL) -> None:
    assert error_codes(gql("mutation { logout }")) == ["UNAUTHENTICATED"]
    assert gql("mutation { logout }", token=gql.login()) == {"data": {"logout": True}}


def test_rate_and_remove_are_durable_and_change_recommendations(
    gql: GraphQL, store: Engine
) -> None:
    token = gql.login("user5")
    before = [m["id"] for m in gql(RECOMMENDED, token=token)["data"]["recommendations"]]
    target = before[0]
    rated = gql(RATE, {"m": target, "r": 4.5}, token=token)["data"]["rateMovie"]
    assert rated == {
        "__typename": "RatingPayload",
        "rating": 4.5,
        "movie": {"id": target, "viewerRating": 4.5},
        "viewer": {"ratingCount": 13},
    }
    with store.connect() as conn:
        stored = conn.execute(
            select(ratings.c.rating).where(ratings.c.user_id == 5, ratings.c.movie_id == target)
        ).scalar_one()
    assert stored == 4.5
    after = [m["id"] for m in gql(RECOMMENDED, token=token)["data"]["recommendations"]]
    assert target not in after

    changed = gql(RATE, {"m": target, "r": 1.0}, token=token)["data"]["rateMovie"]
    assert changed["rating"] == 1.0
    assert changed["viewer"]["ratingCount"] == 13

    removed = gql(REMOVE, {"m": target}, token=token)["data"]["removeRating"]
    assert removed["rating"] is None
    assert removed["movie"]["viewerRating"] is None
    assert removed["viewer"]["ratingCount"] == 12
    again = [m["id"] for m in gql(RECOMMENDED, token=token)["data"]["recommendations"]]
    assert again == before


def test_new_account_goes_from_cold_start_to_personal(
    gql: GraphQL, recommender: Recommender
) -> None:
    token = gql(SIGN_UP, {"u": "newbie", "p": "long enough"})["data"]["signUp"]["token"]
    cold = [m["id"] for m in gql(RECOMMENDED, token=token)["data"]["recommendations"]]
    stranger = gql(SIGN_UP, {"u": "stranger", "p": "long enough"})["data"]["signUp"]["token"]
    assert [m["id"] for m in gql(RECOMMENDED, token=stranger)["data"]["recommendations"]] == cold
    popular = [movie_id for movie_id, _ in recommender.top_n(UserRatings.empty(), 10)]
    assert cold == popular
    gql(RATE, {"m": cold[0], "r": 5.0}, token=token)
    personal = [m["id"] for m in gql(RECOMMENDED, token=token)["data"]["recommendations"]]
    folded_in = recommender.top_n(
        UserRatings(np.array([cold[0]], dtype=np.int64), np.array([5.0], dtype=np.float32)), 10
    )
    assert personal == [movie_id for movie_id, _ in folded_in]
    assert personal != [movie_id for movie_id in popular if movie_id != cold[0]][:10]


@pytest.mark.parametrize("rating", [0.0, 0.25, 4.7, 5.5, -1.0, 1e308])
def test_out_of_range_ratings_store_nothing(gql: GraphQL, store: Engine, rating: float) -> None:
    token = gql.login()
    before = counts(store)
    result = gql(RATE, {"m": 1, "r": rating}, token=token)["data"]["rateMovie"]
    assert result["__typename"] == "InvalidRating"
    assert result["code"] == "INVALID_RATING"
    assert counts(store) == before


def test_unknown_movies_store_nothing(gql: GraphQL, store: Engine) -> None:
    token = gql.login()
    before = counts(store)
    rated = gql(RATE, {"m": 987654, "r": 3.0}, token=token)["data"]["rateMovie"]
    removed = gql(REMOVE, {"m": 987654}, token=token)["data"]["removeRating"]
    assert rated["__typename"] == removed["__typename"] == "MovieNotFound"
    assert counts(store) == before


@pytest.mark.parametrize(
    "variables",
    [
        {"m": "one", "r": 3.0},
        {"m": 1, "r": "three"},
        {"m": 2**40, "r": 3.0},
        {"m": 1.5, "r": 3.0},
        {"m": None, "r": 3.0},
        {"m": 1},
        {"m": [1], "r": 3.0},
    ],
)
def test_wrongly_typed_variables_store_nothing(
    gql: GraphQL, store: Engine, variables: dict[str, Any]
) -> None:
    token = gql.login()
    before = counts(store)
    result = gql(RATE, variables, token=token)
    assert result.get("data") is None
    assert error_codes(result)
    assert set(error_codes(result)) == {"GRAPHQL_VALIDATION_FAILED"}
    assert counts(store) == before


def test_writes_need_a_viewer(gql: GraphQL, store: Engine) -> None:
    before = counts(store)
    assert error_codes(gql(RATE, {"m": 1, "r": 3.0})) == ["UNAUTHENTICATED"]
    assert error_codes(gql(REMOVE, {"m": 1})) == ["UNAUTHENTICATED"]
    assert counts(store) == before


def test_a_movie_nobody_rated_can_be_rated(gql: GraphQL) -> None:
    token = gql.login()
    result = gql(RATE, {"m": BARE_MOVIE, "r": 0.5}, token=token)["data"]["rateMovie"]
    assert result["movie"] == {"id": BARE_MOVIE, "viewerRating": 0.5}
    stats = gql(f"{{ movie(id: {BARE_MOVIE}) {{ ratingStats {{ average count }} }} }}")
    assert stats["data"]["movie"]["ratingStats"] == {"average": 0.5, "count": 1}


PREDICTED = "query($id: Int!) { movie(id: $id) { predictedRating } }"


def _served_prediction(
    recommender: Recommender, store: Engine, user_id: int, movie_id: int, days: set[int]
) -> set[float]:
    """What the served model predicts from the user's stored ratings and their times, as of
    each of ``days`` (the request's day: two only if it ran across midnight UTC)."""
    with store.connect() as conn:
        rows = conn.execute(
            select(ratings.c.movie_id, ratings.c.rating, ratings.c.rated_at).where(
                ratings.c.user_id == user_id
            )
        ).all()
    user = UserRatings(
        np.array([r.movie_id for r in rows], dtype=np.int64),
        np.array([r.rating for r in rows], dtype=np.float32),
        np.array([r.rated_at for r in rows], dtype=np.int64),
    )
    wanted = np.array([movie_id], dtype=np.int64)
    return {round(float(recommender.predict(user, wanted, at=day * 86_400)[0]), 9) for day in days}


def test_predicted_rating_is_the_served_time_aware_model_and_a_new_rating_counts_at_once(
    gql: GraphQL, store: Engine, recommender: Recommender
) -> None:
    token = gql.login("user2")
    with store.connect() as conn:
        user_id = conn.execute(select(users.c.id).where(users.c.username == "user2")).scalar_one()
        rated = set(
            conn.execute(select(ratings.c.movie_id).where(ratings.c.user_id == user_id)).scalars()
        )
    target, other = [int(m) for m in recommender.movie_ids if int(m) not in rated][:2]

    def asked() -> tuple[float, set[int]]:
        before = time.time()
        value = gql(PREDICTED, {"id": target}, token=token)["data"]["movie"]["predictedRating"]
        return value, {int(before) // 86_400, int(time.time()) // 86_400}

    first, days = asked()
    assert round(first, 9) in _served_prediction(recommender, store, user_id, target, days)
    # A rating given now enters today's day bias and the neighbour terms at once.
    gql(RATE, {"m": other, "r": 0.5}, token=token)
    second, days = asked()
    assert round(second, 9) in _served_prediction(recommender, store, user_id, target, days)
    assert second != first
