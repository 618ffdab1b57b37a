"""The rating scale is one fact: the store's check constraint accepts exactly what it allows."""

from __future__ import annotations

import math

import pytest
from sqlalchemy import Engine, insert
from sqlalchemy.exc import IntegrityError

from data.domain import RATING_SCALE
from data.schema import movies, ratings, users

# Every quarter star from -1 to 6, plus values no scale allows.
CANDIDATES = [quarter / 4 for quarter in range(-4, 25)] + [float("nan"), float("inf"), 3.3]


def test_the_scale_allows_the_half_stars_only() -> None:
    allowed = [value for value in CANDIDATES if RATING_SCALE.allows(value)]
    assert allowed == [step / 2 for step in range(1, 11)]
    assert RATING_SCALE.bounds == (0.5, 5.0)
    assert RATING_SCALE.describe() == "0.5 to 5.0 in steps of 0.5"


@pytest.mark.parametrize("value", [value for value in CANDIDATES if math.isfinite(value)])
def test_the_store_accepts_what_the_scale_allows(engine: Engine, value: float) -> None:
    with engine.begin() as conn:
        conn.execute(insert(movies).values(id=1, title="T", movielens_title="T"))
        conn.execute(insert(users).values(id=1, username="u", password_hash="h"))
    row = {"user_id": 1, "movie_id": 1, "rating": value, "rated_at": 0}
    if RATING_SCALE.allows(value):
        with engine.begin() as conn:
            conn.execute(insert(ratings).values(row))
    else:
        with pytest.raises(IntegrityError), engine.begin() as conn:
            conn.execute(insert(ratings).values(row))
