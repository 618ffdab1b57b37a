"""Store behaviour that differs between SQLite and PostgreSQL, checked on both dialects.

Every graph test already runs on both (see conftest); these target what only concurrency or a
server-side sequence exposes.
"""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.exc import IntegrityError

from data.schema import ratings
from data.users import UsernameTakenError, create_user
from graph.services.bundle import Services

WRITERS = 8


def test_concurrent_first_ratings_of_a_movie_leave_one_row(services: Services) -> None:
    with services.engine.connect() as conn:
        rated = set(
            conn.execute(select(ratings.c.movie_id).where(ratings.c.user_id == 1)).scalars()
        )
    movie = min(set(range(1, 29)) - rated)
    start = threading.Barrier(WRITERS)
    errors: list[Exception] = []

    def rate(stars: float) -> None:
        start.wait()
        try:
            services.ratings.rate(1, movie, stars)
        except Exception as exc:  # collected: an exception in a thread would pass unseen
            errors.append(exc)

    writers = [threading.Thread(target=rate, args=(0.5 * (n + 1),)) for n in range(WRITERS)]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join()
    assert errors == []
    with services.engine.connect() as conn:
        stored = conn.execute(
            select(ratings.c.rating).where(ratings.c.user_id == 1, ratings.c.movie_id == movie)
        ).all()
    assert len(stored) == 1
    assert stored[0].rating in {0.5 * (n + 1) for n in range(WRITERS)}


def test_an_id_collision_on_sign_up_is_not_a_taken_username(store: Engine) -> None:
    if store.dialect.name != "postgresql":
        pytest.skip("only PostgreSQL draws user ids from a sequence that can lag explicit ids")
    with store.begin() as conn:
        conn.execute(text("SELECT setval(pg_get_serial_sequence('users', 'id'), 1, false)"))
    with pytest.raises(IntegrityError), store.begin() as conn:
        create_user(conn, "fresh_name", "hash")
    with pytest.raises(UsernameTakenError), store.begin() as conn:
        create_user(conn, "USER3", "hash")
