"""Small synthetic rating data with low-rank structure, built in memory for fast tests."""

from __future__ import annotations

import numpy as np
import pandas as pd


def synthetic_ratings(
    n_users: int = 60, n_movies: int = 80, per_user: int = 25, seed: int = 0
) -> pd.DataFrame:
    """Ratings in half stars from a rank-3 taste model; movie ids are sparse, like MovieLens."""
    rng = np.random.default_rng(seed)
    users, movies = rng.normal(size=(n_users, 3)), rng.normal(size=(n_movies, 3))
    popularity = rng.zipf(1.6, n_movies).astype(np.float64)
    rows = []
    for user in range(n_users):
        seen = rng.choice(n_movies, per_user, replace=False, p=popularity / popularity.sum())
        raw = 3.2 + users[user] @ movies[seen].T + rng.normal(0, 0.3, per_user)
        stars = np.clip(np.round(raw * 2) / 2, 0.5, 5.0)
        times = 1_000_000 + rng.permutation(per_user) * 60
        rows += [(user + 1, 10 * m + 1, s, t) for m, s, t in zip(seen, stars, times, strict=True)]
    frame = pd.DataFrame(rows, columns=["user_id", "movie_id", "rating", "timestamp"])
    return frame.astype({"user_id": "int64", "movie_id": "int64", "rating": "float32"})
