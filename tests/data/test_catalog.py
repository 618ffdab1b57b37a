"""The ETL's writes: the generic upsert and what each table's variant keeps or replaces."""

from __future__ import annotations

from sqlalchemy import Engine, select

from data import catalog
from data.bulk import merge_all
from data.schema import genres, movie_genres, movies, ratings, users
from tests.data.rows import bare_movie


def test_movies_merge_updates_in_place(engine: Engine) -> None:
    with engine.begin() as conn:
        catalog.merge_rows(conn, catalog.MOVIES, [bare_movie(1, "Old"), bare_movie(2, "Other")])
        catalog.merge_rows(conn, catalog.MOVIES, [bare_movie(1, "New")])
        rows = conn.execute(select(movies.c.id, movies.c.title).order_by(movies.c.id)).all()
    assert rows == [(1, "New"), (2, "Other")]


def test_upsert_without_update_columns_keeps_existing_rows(engine: Engine) -> None:
    with engine.begin() as conn:
        catalog.merge_rows(
            conn,
            catalog.DEMO_USERS,
            [{"id": 1, "username": "user1", "password_hash": "a", "is_demo": True}],
        )
        catalog.merge_rows(
            conn,
            catalog.DEMO_USERS,
            [{"id": 1, "username": "user1", "password_hash": "b", "is_demo": True}],
        )
        rows = conn.execute(select(users.c.id, users.c.password_hash)).all()
    assert rows == [(1, "a")]


def test_ratings_latest_write_wins(engine: Engine) -> None:
    with engine.begin() as conn:
        catalog.merge_rows(conn, catalog.MOVIES, [bare_movie(1, "M")])
        catalog.merge_rows(
            conn,
            catalog.DEMO_USERS,
            [{"id": 1, "username": "user1", "password_hash": "h", "is_demo": True}],
        )
        catalog.merge_rows(
            conn, catalog.RATINGS, [{"user_id": 1, "movie_id": 1, "rating": 3.0, "rated_at": 10}]
        )
        catalog.merge_rows(
            conn, catalog.RATINGS, [{"user_id": 1, "movie_id": 1, "rating": 1.0, "rated_at": 5}]
        )
        kept = conn.execute(select(ratings.c.rating, ratings.c.rated_at)).one()
        catalog.merge_rows(
            conn, catalog.RATINGS, [{"user_id": 1, "movie_id": 1, "rating": 4.5, "rated_at": 20}]
        )
        newer = conn.execute(select(ratings.c.rating, ratings.c.rated_at)).one()
    assert tuple(kept) == (3.0, 10)
    assert tuple(newer) == (4.5, 20)


def test_genre_ids_are_stable_and_movie_genres_replaced(engine: Engine) -> None:
    with engine.begin() as conn:
        catalog.merge_rows(conn, catalog.MOVIES, [bare_movie(1, "M")])
        first = catalog.genre_ids(conn, ["Drama", "Comedy"])
        second = catalog.genre_ids(conn, ["Comedy", "Horror"])
        for genre_id in (first["Drama"], second["Horror"]):
            catalog.delete_movie_genres(conn, [1])
            merge_all(
                conn, catalog.MOVIE_GENRES, ("movie_id", "genre_id", "position"), [(1, genre_id, 0)]
            )
        linked = conn.execute(
            select(genres.c.name).join(movie_genres).where(movie_genres.c.movie_id == 1)
        ).scalars()
        assert list(linked) == ["Horror"]
    assert first["Comedy"] == second["Comedy"]


def test_update_movie_metadata_touches_only_metadata(engine: Engine) -> None:
    with engine.begin() as conn:
        catalog.merge_rows(conn, catalog.MOVIES, [bare_movie(1, "M"), bare_movie(2, "N")])
        catalog.update_movie_metadata(
            conn,
            [
                {
                    "id": 1,
                    "original_title": "O",
                    "overview": "V",
                    "poster_path": "/p.jpg",
                    "backdrop_path": "/b.jpg",
                }
            ],
        )
        rows = conn.execute(
            select(movies.c.id, movies.c.title, movies.c.overview, movies.c.backdrop_path)
        ).all()
    assert sorted(rows) == [(1, "M", "V", "/b.jpg"), (2, "N", None, None)]
