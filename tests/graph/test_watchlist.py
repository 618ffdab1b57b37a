"""The watchlist: save and unsave with typed errors, pages newest first, inWatchlist, and saved
movies left out of recommendations until unsaved or rated (rating takes a movie off the list)."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, func, select

from data.schema import watchlist
from tests.graph.conftest import GraphQL, error_codes

SAVE = """mutation($m: Int!) { addToWatchlist(movieId: $m) { __typename
  ... on WatchlistPayload { saved movie { id inWatchlist } viewer { watchlist { totalCount } } }
  ... on UserError { code message } } }"""
UNSAVE = SAVE.replace("addToWatchlist", "removeFromWatchlist")
PAGE = """query($first: Int!, $after: String) { viewer { watchlist(first: $first, after: $after) {
  totalCount edges { cursor node { id inWatchlist } } pageInfo { hasNextPage endCursor } } } }"""
RECOMMENDED = "{ recommendations(first: 100) { id } }"


def _rows(store: Engine) -> int:
    with store.connect() as conn:
        return conn.execute(select(func.count()).select_from(watchlist)).scalar_one()


def test_save_and_unsave(gql: GraphQL, store: Engine) -> None:
    token = gql.login("user1")
    saved = gql(SAVE, {"m": 5}, token=token)["data"]["addToWatchlist"]
    assert saved == {
        "__typename": "WatchlistPayload",
        "saved": True,
        "movie": {"id": 5, "inWatchlist": True},
        "viewer": {"watchlist": {"totalCount": 1}},
    }
    again = gql(SAVE, {"m": 5}, token=token)["data"]["addToWatchlist"]
    assert again["viewer"] == {"watchlist": {"totalCount": 1}}  # saving twice keeps one
    assert _rows(store) == 1
    removed = gql(UNSAVE, {"m": 5}, token=token)["data"]["removeFromWatchlist"]
    assert removed["saved"] is False
    assert removed["movie"]["inWatchlist"] is False
    assert removed["viewer"] == {"watchlist": {"totalCount": 0}}
    # Unsaving a movie that is not saved is fine too.
    assert gql(UNSAVE, {"m": 5}, token=token)["data"]["removeFromWatchlist"]["saved"] is False
    assert _rows(store) == 0


@pytest.mark.parametrize("mutation", [SAVE, UNSAVE])
def test_an_unknown_movie_is_a_typed_error(gql: GraphQL, store: Engine, mutation: str) -> None:
    token = gql.login("user1")
    [result] = gql(mutation, {"m": 987654}, token=token)["data"].values()
    assert result == {
        "__typename": "MovieNotFound",
        "code": "MOVIE_NOT_FOUND",
        "message": "no movie with id 987654",
    }
    assert _rows(store) == 0


def test_signed_out_is_refused_and_in_watchlist_is_null(gql: GraphQL, store: Engine) -> None:
    assert error_codes(gql(SAVE, {"m": 1})) == ["UNAUTHENTICATED"]
    assert _rows(store) == 0
    assert gql("{ movie(id: 1) { inWatchlist } }") == {"data": {"movie": {"inWatchlist": None}}}


def test_pages_newest_first_and_each_user_sees_their_own(gql: GraphQL) -> None:
    token = gql.login("user1")
    for movie_id in (3, 7, 11, 2, 9):  # saved within one second: ties go by id, highest first
        gql(SAVE, {"m": movie_id}, token=token)
    seen: list[int] = []
    after = None
    while True:
        page = gql(PAGE, {"first": 2, "after": after}, token=token)["data"]["viewer"]["watchlist"]
        assert page["totalCount"] == 5
        seen += [edge["node"]["id"] for edge in page["edges"]]
        assert all(edge["node"]["inWatchlist"] for edge in page["edges"])
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert sorted(seen) == [2, 3, 7, 9, 11]
    assert len(seen) == len(set(seen))
    other = gql(PAGE, {"first": 10}, token=gql.login("user2"))["data"]["viewer"]["watchlist"]
    assert other["totalCount"] == 0
    assert gql("{ movie(id: 3) { inWatchlist } }", token=gql.login("user2")) == {
        "data": {"movie": {"inWatchlist": False}}
    }


@pytest.mark.parametrize(("first", "after"), [(101, None), (-1, None), (5, "forged")])
def test_bad_page_arguments(gql: GraphQL, first: int, after: str | None) -> None:
    result = gql(PAGE, {"first": first, "after": after}, token=gql.login("user1"))
    assert error_codes(result) == ["BAD_USER_INPUT"]


def test_a_saved_movie_is_not_recommended_until_unsaved_or_rated(gql: GraphQL) -> None:
    token = gql.login("user3")
    before = [m["id"] for m in gql(RECOMMENDED, token=token)["data"]["recommendations"]]
    assert len(before) >= 3
    top, second = before[0], before[1]
    gql(SAVE, {"m": top}, token=token)
    gql(SAVE, {"m": second}, token=token)
    while_saved = [m["id"] for m in gql(RECOMMENDED, token=token)["data"]["recommendations"]]
    assert top not in while_saved
    assert second not in while_saved
    assert while_saved == [m for m in before if m not in (top, second)]
    # first: n still gives n when saved movies are left out.
    three = gql("{ recommendations(first: 3) { id } }", token=token)["data"]["recommendations"]
    assert [m["id"] for m in three] == while_saved[:3]

    gql(UNSAVE, {"m": top}, token=token)
    assert gql(RECOMMENDED, token=token)["data"]["recommendations"][0]["id"] == top

    rate = "mutation($m: Int!) { rateMovie(movieId: $m, rating: 4.0) { __typename } }"
    gql(rate, {"m": second}, token=token)
    page = gql(PAGE, {"first": 10}, token=token)["data"]["viewer"]["watchlist"]
    assert page["totalCount"] == 0, "rating a saved movie takes it off the watchlist"
    after = [m["id"] for m in gql(RECOMMENDED, token=token)["data"]["recommendations"]]
    assert second not in after  # rated now, so still not recommended


def test_the_legacy_recommendations_leave_saved_movies_out_too(gql: GraphQL) -> None:
    token = gql.login("user4")
    top = gql("{ recommendations(first: 1) { id } }", token=token)["data"]["recommendations"]
    gql(SAVE, {"m": top[0]["id"]}, token=token)
    legacy = gql.http.get("/user/4/recommendations").json()["movies"]
    assert len(legacy) == 10
    assert top[0]["id"] not in [movie["movieId"] for movie in legacy]
