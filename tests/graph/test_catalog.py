"""The catalog service's caches: what is kept, and how long aggregates may lag."""

from __future__ import annotations

import sys
import threading
import time

import pytest
from sqlalchemy import Connection, Engine, insert

from data import movies as queries
from data.movies import RatingStats, SearchEntry
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


def _waiting_in(thread: threading.Thread, function: str) -> bool:
    frame = sys._current_frames().get(thread.ident or 0)
    while frame is not None:
        if frame.f_code.co_name == function:
            return True
        frame = frame.f_back
    return False


def test_searches_reaching_a_cold_catalog_together_build_its_index_once(
    store: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Seven aliased searches on a cold worker built the index seven times over (1.4 s of CPU
    for one request). The second search here starts while the first builds, and the build lets
    it reach the index before finishing."""
    catalog = Catalog(store)
    builds: list[int] = []
    build = queries.search_index

    def counted(conn: Connection) -> list[SearchEntry]:
        builds.append(1)
        if len(builds) == 1:
            second.start()
            while not _waiting_in(second, "_search_index"):
                time.sleep(0.001)
        return build(conn)

    def search() -> None:
        catalog.search(search="a", genre=None, order=MovieOrder.TITLE, first=5, offset=0)

    second = threading.Thread(target=search)
    monkeypatch.setattr(queries, "search_index", counted)
    search()
    second.join()
    assert builds == [1]
