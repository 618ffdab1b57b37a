"""The catalog service's caches: what is kept, and how long aggregates may lag."""

from __future__ import annotations

from sqlalchemy import Engine, insert

from data.movies import RatingStats
from data.schema import ratings
from graph.services.catalog import Catalog, MovieOrder, Rail, featured
from tests.graph.conftest import UNRATED_MOVIES, USERS


def top_by_popularity(catalog: Catalog) -> int:
    rows, _total = catalog.search(
        search=None, genre=None, order=MovieOrder.POPULARITY, first=1, offset=0
    )
    return rows[0].id


def rate_by_everyone(engine: Engine, movie_id: int) -> None:
    with engine.begin() as conn:
        conn.execute(
            insert(ratings),
            [
                {"user_id": u, "movie_id": movie_id, "rating": 5.0, "rated_at": 2_000_000_000}
                for u in range(1, USERS + 1)
            ],
        )


def test_aggregates_follow_ratings_after_the_ttl(store: Engine) -> None:
    fresh = Catalog(store, aggregates_ttl_seconds=0)
    lagging = Catalog(store, aggregates_ttl_seconds=3600)
    before = top_by_popularity(lagging)
    assert top_by_popularity(fresh) == before
    rate_by_everyone(store, UNRATED_MOVIES[0])
    assert top_by_popularity(fresh) == UNRATED_MOVIES[0]
    assert top_by_popularity(lagging) == before
    trending, _total = fresh.rail(Rail.TRENDING, 1)
    assert trending[0].id == UNRATED_MOVIES[0]
    assert lagging.rating_stats([UNRATED_MOVIES[0]])[UNRATED_MOVIES[0]].count == USERS


def test_featured_shrinks_towards_the_mean() -> None:
    stats = {
        1: RatingStats(5.0, 1),
        2: RatingStats(4.5, 300),
        3: RatingStats(2.0, 300),
    }
    assert featured(stats, 3) == [2, 1, 3]
    assert featured({}, 3) == []
