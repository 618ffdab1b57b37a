"""Ratings queries."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sqlalchemy import Connection, select

from data.schema import ratings

RATINGS_COLUMNS = ("user_id", "movie_id", "rating", "timestamp")


def ratings_frame(conn: Connection) -> pd.DataFrame:
    """Every rating as a frame with columns ``user_id, movie_id, rating, timestamp``.

    This is the hand-off to the recommender, which takes frames and arrays, never a session.
    Rows are ordered by user then time so that temporal splits need no further sort.
    """
    query = select(
        ratings.c.user_id, ratings.c.movie_id, ratings.c.rating, ratings.c.rated_at
    ).order_by(ratings.c.user_id, ratings.c.rated_at, ratings.c.movie_id)
    rows = conn.execute(query).all()
    array = np.array(rows, dtype=np.float64).reshape(-1, 4)
    return pd.DataFrame(
        {
            "user_id": array[:, 0].astype(np.int64),
            "movie_id": array[:, 1].astype(np.int64),
            "rating": array[:, 2].astype(np.float32),
            "timestamp": array[:, 3].astype(np.int64),
        }
    )
