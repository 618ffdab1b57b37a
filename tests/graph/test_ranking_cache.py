"""The per-worker cache of ranked recommendation lists: bounded, never stale, same answers.

A cached list is reused only while the model and the inputs the ranking reads (the user's
ratings and watchlist, the genre) are unchanged, so every test here changes one of them through
the API and checks the very next answer against a service that caches nothing.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, delete

from data.db import reader
from data.ratings import ranking_inputs, ratings_frame
from data.schema import user_versions
from graph.app import create_app
from graph.config import AppConfig
from graph.services.bundle import Services, build_services
from graph.services.errors import InvalidInputError
from graph.services.ranking_cache import RankingCache
from graph.services.recommendations import RECOMMENDATION_DEPTH, Recommendations, ranking_key
from recommender.serving import Recommender, UserRatings
from tests.graph.conftest import GENRES, GraphQL

RATE = "mutation($m: Int!, $r: Float!) { rateMovie(movieId: $m, rating: $r) { __typename } }"
SAVE = "mutation($m: Int!) { addToWatchlist(movieId: $m) { __typename } }"
PAGE = """query($after: String) {
  pagedRecommendations(first: 5, after: $after) {
    totalCount edges { node { id } } pageInfo { endCursor hasNextPage }
  }
}"""
UNRATE = "mutation($m: Int!) { removeRating(movieId: $m) { __typename } }"
UNSAVE = "mutation($m: Int!) { removeFromWatchlist(movieId: $m) { __typename } }"
UNKNOWN_USER = 9999


def legacy_ids(http: TestClient, user_id: int) -> list[int]:
    response = http.get(f"/user/{user_id}/recommendations")
    assert response.status_code == 200, response.text
    return [movie["movieId"] for movie in response.json()["movies"]]


def without_cache(services: Services, recommender: Recommender) -> Recommendations:
    """The same store and catalog and ``recommender``, caching nothing: the answer to expect."""
    return Recommendations(reader(services.engine), recommender, services.catalog, cache_entries=0)


@pytest.fixture
def uncached(services: Services) -> Recommendations:
    return without_cache(services, services.recommendations.recommender)


def test_a_rating_changes_the_next_answer_at_once(
    http: TestClient, gql: GraphQL, services: Services, uncached: Recommendations
) -> None:
    token = gql.login("user1")
    before = legacy_ids(http, 1)
    assert legacy_ids(http, 1) == before, "the second answer, from the cache, is the same"
    assert len(services.recommendations.rankings) == 1

    top = before[0]
    assert gql(RATE, {"m": top, "r": 0.5}, token=token)["data"]["rateMovie"]
    after = legacy_ids(http, 1)
    assert top not in after, "a rated movie is no longer recommended"
    assert after == uncached.for_user(1, 10)

    # A rating's value counts, not only which movies are rated: a new value, a new list.
    cached = len(services.recommendations.rankings)
    assert gql(RATE, {"m": top, "r": 5.0}, token=token)["data"]["rateMovie"]
    assert legacy_ids(http, 1) == uncached.for_user(1, 10)
    assert len(services.recommendations.rankings) == cached + 1


def test_saving_a_movie_to_the_watchlist_changes_the_next_answer(
    http: TestClient, gql: GraphQL, uncached: Recommendations
) -> None:
    token = gql.login("user2")
    before = legacy_ids(http, 2)
    assert gql(SAVE, {"m": before[0]}, token=token)["data"]["addToWatchlist"]
    after = legacy_ids(http, 2)
    assert after[:9] == before[1:], "the saved movie left; the ranking is otherwise the same"
    assert after == uncached.for_user(2, 10)


VIEWER_IDS = "{ viewer { recommendations(first: 10) { id } } }"
SAVE_THEN_LIST = """mutation($m: Int!) { addToWatchlist(movieId: $m) {
  ... on WatchlistPayload { saved viewer { recommendations(first: 10) { id } } } } }"""


def test_a_mutation_lists_the_viewers_recommendations_after_its_own_write(
    gql: GraphQL, uncached: Recommendations
) -> None:
    """The viewer's ranking version comes with their token, read as the request starts; a
    mutation's payload must not rank against that version, which its own write outdated."""
    token = gql.login("user4")
    before = [m["id"] for m in gql(VIEWER_IDS, token=token)["data"]["viewer"]["recommendations"]]
    assert before == uncached.for_user(4, 10)  # and now cached under the version before
    payload = gql(SAVE_THEN_LIST, {"m": before[0]}, token=token)["data"]["addToWatchlist"]
    assert payload["saved"] is True
    after = [m["id"] for m in payload["viewer"]["recommendations"]]
    assert before[0] not in after
    assert after == uncached.for_user(4, 10)
    # And the next query, whose token read brings the new version, agrees.
    again = gql(VIEWER_IDS, token=token)["data"]["viewer"]["recommendations"]
    assert [m["id"] for m in again] == after


def test_every_worker_sees_a_rating_made_through_another(
    config: AppConfig, store: Engine, recommender: Recommender, http: TestClient, gql: GraphQL
) -> None:
    """Two workers' caches over one store: no invalidation crosses them, none is needed."""
    other = build_services(config, recommender)
    try:
        with TestClient(create_app(config, other)) as second:
            before = legacy_ids(second, 3)
            assert legacy_ids(second, 3) == before  # cached in the second worker
            token = gql.login("user3")
            assert gql(RATE, {"m": before[0], "r": 1.0}, token=token)["data"]["rateMovie"]
            assert before[0] not in legacy_ids(second, 3)
    finally:
        other.engine.dispose()


def test_a_model_switch_changes_the_next_answer(
    http: TestClient, services: Services, store: Engine
) -> None:
    served = services.recommendations
    legacy_ids(http, 1)
    assert len(served.rankings) == 1
    with store.connect() as conn:
        popularity = Recommender.popularity(ratings_frame(conn))
    expected = without_cache(services, popularity).for_user(1, 10)
    assert expected != served.for_user(1, 10), "the two models rank user 1 differently"
    served.recommender = popularity  # what refresh() does with a new artifact
    assert len(served.rankings) == 0, "the old model's lists are dropped"
    assert legacy_ids(http, 1) == expected


def test_a_list_ranked_by_the_old_model_is_never_served_by_the_new(
    services: Services, store: Engine
) -> None:
    """A request that ranked with the old model may store its list after the switch (it read
    the model first); the generation in its key keeps that list from the new model's users."""
    served = services.recommendations
    old = served.for_user(1, 10)
    with store.connect() as conn:
        popularity = Recommender.popularity(ratings_frame(conn))
    _, old_generation = served._served
    served.recommender = popularity
    with services.engine.connect() as conn:
        version = ranking_inputs(conn, 1).version
    late = ranking_key(old_generation, None, 1, version)
    served.rankings.put(late, np.array(old))
    expected = without_cache(services, popularity).for_user(1, 10)
    assert expected != old
    assert served.for_user(1, 10) == expected


def test_cached_and_uncached_answers_are_equal(
    services: Services, uncached: Recommendations
) -> None:
    served = services.recommendations
    for genre in [None, *GENRES]:
        for user_id in [1, 2, 5, 8, UNKNOWN_USER]:
            for _ in range(2):  # a miss, then a hit
                assert served.for_user(user_id, 10, genre) == uncached.for_user(user_id, 10, genre)
                for first, offset in [(3, 0), (3, 3), (100, 0), (5, 400)]:
                    assert served.page(
                        user_id, first=first, offset=offset, genre=genre
                    ) == uncached.page(user_id, first=first, offset=offset, genre=genre)
    assert len(uncached.rankings) == 0


def test_pages_through_graphql_are_slices_of_one_cached_list(
    gql: GraphQL, services: Services, uncached: Recommendations
) -> None:
    token = gql.login("user4")
    seen: list[int] = []
    after = None
    while True:
        page = gql(PAGE, {"after": after}, token=token)["data"]["pagedRecommendations"]
        seen += [int(edge["node"]["id"]) for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert page["totalCount"] == len(seen) > 5
    assert seen == uncached.page(4, first=100, offset=0)[0]
    assert len(services.recommendations.rankings) == 1, "every page came from one entry"


def test_users_without_ratings_get_the_cold_start_list_and_share_it(
    http: TestClient, services: Services, recommender: Recommender
) -> None:
    first = legacy_ids(http, UNKNOWN_USER)
    assert first == legacy_ids(http, UNKNOWN_USER + 1)
    assert len(services.recommendations.rankings) == 1, "the same inputs, one entry"
    expected = [movie for movie, _ in recommender.top_n(UserRatings.empty(), RECOMMENDATION_DEPTH)]
    assert first == expected[:10]


def test_an_unknown_genre_is_refused_before_the_cache(services: Services) -> None:
    with pytest.raises(InvalidInputError, match="unknown genre"):
        services.recommendations.for_user(1, 10, "Nope")
    assert len(services.recommendations.rankings) == 0


@pytest.fixture
def few(config: AppConfig, store: Engine, recommender: Recommender) -> Iterator[Services]:
    built = build_services(
        AppConfig(**{**config.__dict__, "recommendation_cache_entries": 3}), recommender
    )
    yield built
    built.engine.dispose()


def test_the_cache_stays_within_its_bound(few: Services) -> None:
    served = few.recommendations
    assert served.rankings.entries == 3
    for user_id in range(1, 9):
        served.for_user(user_id, 10)
        assert len(served.rankings) <= 3
    assert len(served.rankings) == 3


def test_the_least_recently_used_list_goes_first() -> None:
    cache = RankingCache(2)
    cache.put("a", np.array([1, 2]))
    cache.put("b", np.array([3]))
    assert cache.get("a") is not None  # a is now the most recent
    cache.put("c", np.array([4]))
    assert cache.get("b") is None
    assert list(cache.get("a")) == [1, 2]  # type: ignore[arg-type]
    assert list(cache.get("c")) == [4]  # type: ignore[arg-type]
    assert len(cache) == 2


def test_cached_lists_are_read_only() -> None:
    value = RankingCache(1).put("a", np.array([1, 2, 3]))
    with pytest.raises(ValueError, match="read-only"):
        value[0] = 9


def test_a_cache_of_zero_entries_keeps_nothing_and_a_negative_one_is_refused() -> None:
    off = RankingCache(0)
    assert list(off.put("a", np.array([1]))) == [1]
    assert off.get("a") is None
    assert len(off) == 0
    with pytest.raises(ValueError, match="0 or more"):
        RankingCache(-1)


def test_unsaving_a_movie_and_removing_a_rating_change_the_next_answer(
    http: TestClient, gql: GraphQL, uncached: Recommendations
) -> None:
    token = gql.login("user5")
    before = legacy_ids(http, 5)
    assert gql(SAVE, {"m": before[0]}, token=token)["data"]["addToWatchlist"]
    assert legacy_ids(http, 5) == uncached.for_user(5, 10) != before
    assert gql(UNSAVE, {"m": before[0]}, token=token)["data"]["removeFromWatchlist"]
    assert legacy_ids(http, 5) == before, "unsaved, it is recommended again"
    assert gql(RATE, {"m": before[0], "r": 4.0}, token=token)["data"]["rateMovie"]
    assert before[0] not in legacy_ids(http, 5)
    assert gql(UNRATE, {"m": before[0]}, token=token)["data"]["removeRating"]
    assert legacy_ids(http, 5) == uncached.for_user(5, 10) == before


def test_another_users_write_leaves_a_cached_list_in_place(
    http: TestClient, gql: GraphQL, services: Services
) -> None:
    """The key is per user: user 6's rating does not cost user 1 a new ranking."""
    legacy_ids(http, 1)
    cached = len(services.recommendations.rankings)
    token = gql.login("user6")
    assert gql(RATE, {"m": legacy_ids(http, 6)[0], "r": 3.0}, token=token)["data"]["rateMovie"]
    grown = len(services.recommendations.rankings)
    legacy_ids(http, 1)
    assert len(services.recommendations.rankings) == grown == cached + 1


def test_a_user_whose_version_went_missing_is_ranked_anew_not_given_the_cold_list(
    http: TestClient, services: Services, store: Engine, uncached: Recommendations
) -> None:
    """Only a user with no inputs may share the cold-start entry: one with ratings but no
    version row (a write made with the triggers disabled by hand) gets their own ranking."""
    cold = legacy_ids(http, UNKNOWN_USER)
    with store.begin() as conn:
        conn.execute(delete(user_versions).where(user_versions.c.user_id == 7))
    expected = uncached.for_user(7, 10)
    assert expected != cold
    assert legacy_ids(http, 7) == expected
    assert legacy_ids(http, 7) == expected
    assert len(services.recommendations.rankings) == 1, "only the cold-start list is kept"
