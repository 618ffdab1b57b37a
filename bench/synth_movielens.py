"""Write a synthetic MovieLens folder of a chosen size (default: the ML-25M shape).

The scale figures (ETL, training, request path at ML-25M size) must be rerunnable on a machine
without internet access, so this makes a folder that `movierec etl --movielens DIR` reads like
the real one: ``movies.csv``, ``links.csv``, ``ratings.csv`` and ``tags.csv`` in MovieLens'
formats. Its shape follows ML-25M where it matters for cost:

- users: a long tail of rating counts (at least 20 each, log-normal body, a few heavy raters;
  the heaviest gets ``--max-user-ratings``, 32,202 in ML-25M), so per-user work is exercised
  at its worst as well as on average;
- movies: Zipf-like popularity, so a few movies have tens of thousands of ratings and most a
  handful (what neighbour and co-occurrence fits pay for);
- ratings: half stars from a low-rank taste model plus noise, mean about 3.5, so models have
  signal to find and the RMSE / NDCG of a fit mean something; timestamps increase per user.

Deterministic for a given ``--seed``. At the default size (2-core machine, loaded by other
work): 25,016,620 ratings, per user min 20 / median 82 / max 32,202, per movie median 14 / max
119,114, mean 3.46; 4 min 48 s wall, 2.2 GB peak RSS (`/usr/bin/time -v`), 687 MB ratings.csv.

Run:
    .venv/bin/python bench/synth_movielens.py --out /tmp/ml-25m-synth
    .venv/bin/python bench/synth_movielens.py --out /tmp/ml-1m-synth --users 6040 \
        --movies 3706 --ratings 1000209
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd

GENRES = (
    "Action",
    "Adventure",
    "Animation",
    "Children",
    "Comedy",
    "Crime",
    "Documentary",
    "Drama",
    "Fantasy",
    "Film-Noir",
    "Horror",
    "IMAX",
    "Musical",
    "Mystery",
    "Romance",
    "Sci-Fi",
    "Thriller",
    "War",
    "Western",
)
ML25M_USERS, ML25M_MOVIES, ML25M_RATINGS, ML25M_MAX_USER = 162_541, 62_423, 25_000_095, 32_202
MIN_USER_RATINGS = 20
# A user rating more than this many movies gets an exact weighted draw without replacement
# (Gumbel top-k over all movies); lighter users draw with replacement, vectorised over all of
# them at once, and drop repeats until each has their count.
HEAVY_USER = 300
TASTE_RANK = 8
CHUNK_ROWS = 2_000_000
FIRST_TIMESTAMP, LAST_TIMESTAMP = 789_652_009, 1_574_327_703  # ML-25M's own range


def user_counts(rng: np.random.Generator, users: int, total: int, heaviest: int) -> np.ndarray:
    """Ratings per user: log-normal, at least MIN_USER_RATINGS, scaled to ``total``."""
    raw = rng.lognormal(mean=0.0, sigma=1.25, size=users)
    counts = MIN_USER_RATINGS + raw / raw.sum() * (total - MIN_USER_RATINGS * users)
    counts = np.minimum(np.round(counts).astype(np.int64), heaviest)
    counts[np.argmax(counts)] = heaviest
    return counts


def movie_popularity(rng: np.random.Generator, movies: int) -> np.ndarray:
    """Zipf-like draw probabilities over movies in a shuffled order (ids are not popularity)."""
    # Zipf-Mandelbrot 1/(rank + 100)^1.8: at the ML-25M shape the most-rated movie gets about
    # 85,000 ratings and the median movie about 6 (ML-25M: 81,491 and a long tail alike).
    weights = 1.0 / (np.arange(1, movies + 1, dtype=np.float64) + 100.0) ** 1.8
    rng.shuffle(weights)
    return weights / weights.sum()


def draw_pairs(
    rng: np.random.Generator, counts: np.ndarray, popularity: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(user index, movie index) pairs, unique per user and exactly ``counts`` each, by user."""
    movies = popularity.size
    cumulative = np.cumsum(popularity)
    done: list[np.ndarray] = []
    partial = np.empty(0, dtype=np.int64)
    pending = np.flatnonzero(counts <= HEAVY_USER)
    missing = counts[pending]
    while pending.size:
        # Oversample what is still missing, drop repeats, keep each user's first `count`; users
        # now complete leave the loop, so later rounds sort only the few still short.
        users = np.repeat(pending, 2 * missing + 10)
        draws = np.searchsorted(cumulative, rng.random(users.size) * cumulative[-1])
        keys = np.unique(np.concatenate([partial, users * movies + np.minimum(draws, movies - 1)]))
        owner = keys // movies
        keys = keys[np.arange(keys.size) - np.searchsorted(owner, owner) < counts[owner]]
        owner = keys // movies
        have = np.bincount(owner, minlength=counts.size)
        complete = have[owner] == counts[owner]
        done.append(keys[complete])
        partial = keys[~complete]
        pending = np.unique(partial // movies)
        missing = counts[pending] - have[pending]
    keys = np.concatenate(done)
    user_parts, movie_parts = [keys // movies], [keys % movies]
    log_popularity = np.log(popularity)
    for user in np.flatnonzero(counts > HEAVY_USER):
        gumbel = log_popularity - np.log(-np.log(rng.random(movies)))
        chosen = np.argpartition(-gumbel, counts[user] - 1)[: counts[user]]
        user_parts.append(np.full(chosen.size, user, dtype=np.int64))
        movie_parts.append(np.sort(chosen))
    user_index, movie_index = np.concatenate(user_parts), np.concatenate(movie_parts)
    order = np.argsort(user_index, kind="stable")
    return user_index[order], movie_index[order]


def star_ratings(
    rng: np.random.Generator,
    user_index: np.ndarray,
    movie_index: np.ndarray,
    shape: tuple[int, int],
) -> np.ndarray:
    """Half stars from biases plus a low-rank taste term plus noise, clipped to 0.5..5."""
    users, movies = shape
    user_bias = rng.normal(0.0, 0.45, users)
    movie_bias = rng.normal(0.0, 0.5, movies)
    user_taste = rng.normal(0.0, 0.35, (users, TASTE_RANK))
    movie_taste = rng.normal(0.0, 0.35, (movies, TASTE_RANK))
    out = np.empty(user_index.size, dtype=np.float32)
    for start in range(0, user_index.size, CHUNK_ROWS):
        u, m = user_index[start : start + CHUNK_ROWS], movie_index[start : start + CHUNK_ROWS]
        score = 3.53 + user_bias[u] + movie_bias[m]
        score += np.einsum("ij,ij->i", user_taste[u], movie_taste[m])
        score += rng.normal(0.0, 0.6, u.size)
        out[start : start + u.size] = np.clip(np.round(score * 2) / 2, 0.5, 5.0)
    return out


def timestamps(rng: np.random.Generator, user_index: np.ndarray, users: int) -> np.ndarray:
    """Increasing per user, each user active over a random stretch of ML-25M's time range."""
    span = LAST_TIMESTAMP - FIRST_TIMESTAMP
    start = FIRST_TIMESTAMP + (rng.random(users) * span * 0.9).astype(np.int64)
    length = (rng.random(users) * (LAST_TIMESTAMP - start)).astype(np.int64)
    offsets = rng.random(user_index.size)
    # Sort each user's offsets so a user's ratings are in time order, as MovieLens exports them.
    order = np.lexsort((offsets, user_index))
    offsets = offsets[order]
    return start[user_index] + (offsets * length[user_index]).astype(np.int64)


def write_csv(path: Path, columns: dict[str, np.ndarray]) -> None:
    """A large CSV in chunks, so the text of 25 M rows never exists at once."""
    frame = pd.DataFrame(columns, copy=False)
    frame.to_csv(path, index=False, float_format="%.1f", chunksize=CHUNK_ROWS, lineterminator="\n")


def write_movies(rng: np.random.Generator, out: Path, movies: int) -> np.ndarray:
    """movies.csv and links.csv; movie ids have gaps, as MovieLens' do."""
    ids = np.sort(rng.choice(np.arange(1, movies * 3), size=movies, replace=False))
    years = rng.integers(1915, 2020, movies)
    genre_count = rng.integers(1, 4, movies)
    with (out / "movies.csv").open("w", encoding="utf-8", newline="\n") as handle:
        handle.write("movieId,title,genres\n")
        for movie_id, year, count in zip(ids, years, genre_count, strict=True):
            genres = "|".join(sorted(rng.choice(GENRES, size=count, replace=False)))
            handle.write(f"{movie_id},Synthetic Movie {movie_id} ({year}),{genres}\n")
    with (out / "links.csv").open("w", encoding="utf-8", newline="\n") as handle:
        handle.write("movieId,imdbId,tmdbId\n")
        for position, movie_id in enumerate(ids):
            handle.write(f"{movie_id},{1_000_000 + position:07d},{100_000 + position}\n")
    return ids


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="folder to write (created)")
    parser.add_argument("--users", type=int, default=ML25M_USERS)
    parser.add_argument("--movies", type=int, default=ML25M_MOVIES)
    parser.add_argument("--ratings", type=int, default=ML25M_RATINGS, help="approximate total")
    parser.add_argument("--max-user-ratings", type=int, default=ML25M_MAX_USER)
    parser.add_argument("--seed", type=int, default=25)
    args = parser.parse_args()
    if args.users < 1 or args.movies < MIN_USER_RATINGS:
        parser.error(f"need at least 1 user and {MIN_USER_RATINGS} movies")
    if args.ratings < args.users * MIN_USER_RATINGS:
        parser.error(f"--ratings must be at least {MIN_USER_RATINGS} per user")
    heaviest = min(args.max_user_ratings, args.movies)
    rng = np.random.default_rng(args.seed)
    args.out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()

    movie_ids = write_movies(rng, args.out, args.movies)
    counts = user_counts(rng, args.users, args.ratings, heaviest)
    user_index, movie_index = draw_pairs(rng, counts, movie_popularity(rng, args.movies))
    stars = star_ratings(rng, user_index, movie_index, (args.users, args.movies))
    times = timestamps(rng, user_index, args.users)
    write_csv(
        args.out / "ratings.csv",
        {
            "userId": user_index + 1,
            "movieId": movie_ids[movie_index],
            "rating": stars,
            "timestamp": times,
        },
    )
    tagged = np.unique(rng.choice(user_index.size, size=min(user_index.size, args.ratings // 25)))
    with (args.out / "tags.csv").open("w", encoding="utf-8", newline="\n") as handle:
        handle.write("userId,movieId,tag,timestamp\n")
        for row in tagged:
            tag = GENRES[movie_index[row] % len(GENRES)].lower()
            handle.write(
                f"{user_index[row] + 1},{movie_ids[movie_index[row]]},{tag},{times[row]}\n"
            )

    per_user = np.bincount(user_index, minlength=args.users)
    per_movie = np.bincount(movie_index, minlength=args.movies)
    print(
        f"wrote {args.out}: {user_index.size:,} ratings by {args.users:,} users on "
        f"{args.movies:,} movies in {time.perf_counter() - started:.0f} s\n"
        f"  ratings per user: min {per_user.min()}, median {int(np.median(per_user))}, "
        f"max {per_user.max():,}\n"
        f"  ratings per movie: median {int(np.median(per_movie))}, max {per_movie.max():,}, "
        f"movies never rated {int((per_movie == 0).sum()):,}\n"
        f"  mean rating {stars.mean():.2f}"
    )


if __name__ == "__main__":
    main()
