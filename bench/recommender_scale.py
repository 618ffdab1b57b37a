"""Serving latency at ML-25M scale: 162,541 users and 62,423 movies, synthetic.

Serving cost depends on the shapes (movies x factors) and on the user's number of ratings, not
on the values, so the model here has random factors of the served shapes and users whose rating
counts follow ML-25M's long tail (median ~70, a few thousand for the heaviest). Memory is the
item side only: O(movies x (factors + top-K neighbours)), nothing per user and no movie x movie
matrix.

The models are the ones served at this size: PureSVD (``--factors``, default the served k),
ALS with the neighbour lists beside it (``recommender.models.als_listed``), popularity.

Run: ``OPENBLAS_NUM_THREADS=1 .venv/bin/python bench/recommender_scale.py [--factors 100]``.
Target: top_n <= 5 ms p50.

Measured 2026-11-25, when the blend was served at every size and PureSVD had k=20 (2 cores
shared with other jobs; OPENBLAS_NUM_THREADS=1, as for one worker process per core); the item
side is 107 MB (PureSVD 20 factors, SVD 100 factors, top-100 neighbour index + similarity per
movie):
    top_n, 2000 users (median 70 ratings): p50 0.383 ms, p99 0.572 ms
    top_n, heaviest user (2186 ratings): p50 0.624 ms, p99 0.774 ms
    top_n with a 5,000-movie genre filter: p50 0.637 ms, p99 0.818 ms
    predict 10 movies (ridge fold-in + neighbours + blend): p50 0.235 ms, p99 0.910 ms
    predict 10 movies, heaviest user: p50 1.539 ms, p99 1.710 ms
    similar(movie): p50 0.331 ms, p99 0.472 ms (factor cosine over every movie, before
    similar() read the neighbour lists; rerun after, other figures within noise:)
    similar(movie), 10 from the neighbour list: p50 0.007 ms, p99 0.009 ms
    similar(movie), no neighbours (cosine fill): p50 0.343 ms, p99 0.459 ms
"""

from __future__ import annotations

import argparse
from dataclasses import replace

import numpy as np
from timing import timed

from recommender.models.als_listed import ALSWithNeighbourLists
from recommender.models.popularity import Popularity
from recommender.models.puresvd import PureSVD
from recommender.serving import Recommender, UserRatings
from recommender.training import SCALE_ALGORITHM, ServedConfig, scale_neighbours

N_USERS, N_MOVIES = 162_541, 62_423


def synthetic_recommender(rng: np.random.Generator, factors: int) -> Recommender:
    """The models served at this size (above ``ServedConfig.scale_threshold``): PureSVD with
    ``factors`` factors, ALS with neighbour lists beside it, popularity for cold start."""
    config = ServedConfig()
    movie_ids = np.sort(rng.choice(300_000, N_MOVIES, replace=False)).astype(np.int64)
    ranker = PureSVD(
        params=replace(config.ranker, factors=factors),
        item_factors=rng.normal(size=(N_MOVIES, factors)).astype(np.float32),
        column_weights=rng.uniform(0.5, 1.0, N_MOVIES).astype(np.float32),
    )
    neighbours = scale_neighbours(config)
    stored = neighbours.params.stored
    item_bias = rng.normal(0, 0.3, N_MOVIES)
    neighbours = replace(
        neighbours,
        global_mean=3.5,
        item_bias=item_bias,
        neighbour_index=rng.integers(0, N_MOVIES, (N_MOVIES, stored), dtype=np.int32),
        neighbour_sim=-np.sort(-rng.uniform(0, 0.5, (N_MOVIES, stored)), axis=1).astype(np.float32),
        known=np.ones(N_MOVIES, dtype=bool),
    )
    # The first movie has no neighbours (like a movie rated once): similar() fills by cosine.
    neighbours.neighbour_index[0] = N_MOVIES
    neighbours.neighbour_sim[0] = 0.0
    rating = ALSWithNeighbourLists(
        config.als,
        bias_reg=config.als.user_bias_reg,
        factor_reg=config.als.user_factor_reg,
        global_mean=3.5,
        item_bias=item_bias,
        item_factors=rng.normal(0, 0.1, (N_MOVIES, config.als.factors)),
        known=neighbours.known,
        neighbours=neighbours,
    )
    popularity = Popularity(movie_scores=rng.zipf(1.5, N_MOVIES).astype(np.float32))
    return Recommender(
        movie_ids=movie_ids,
        ranker=ranker,
        rating=rating,
        cold_start=popularity,
        algorithm=SCALE_ALGORITHM,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--factors", type=int, default=ServedConfig().ranker.factors)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    recommender = synthetic_recommender(rng, args.factors)
    counts = np.clip(rng.lognormal(np.log(70), 1.1, 2_000), 20, 8_000).astype(int)
    users = [
        UserRatings(
            rng.choice(recommender.movie_ids, n, replace=False),
            (rng.integers(1, 11, n) / 2).astype(np.float32),
        )
        for n in counts
    ]
    heavy = users[int(np.argmax(counts))]
    arrays = {"movie_ids": recommender.movie_ids}
    for role, model in recommender.roles().items():
        arrays |= model.to_arrays(f"{role}.").arrays
    megabytes = sum(array.nbytes for array in arrays.values()) / 1e6
    print(f"{N_USERS:,} users (stateless: no per-user memory), {N_MOVIES:,} movies")
    print(f"model arrays: {megabytes:.0f} MB, all movies x (factors or top-K neighbours)")
    print(
        f"top_n, {len(users)} users (median {int(np.median(counts))} ratings): "
        f"{timed(lambda u: recommender.top_n(u, 10), users)}"
    )
    print(
        f"top_n, heaviest user ({len(heavy.movie_ids)} ratings): "
        f"{timed(lambda u: recommender.top_n(u, 10), [heavy] * 200)}"
    )
    genre = np.sort(rng.choice(recommender.movie_ids, 5_000, replace=False))
    print(
        f"top_n with a 5,000-movie genre filter: "
        f"{timed(lambda u: recommender.top_n(u, 10, allowed=genre), users)}"
    )
    print(
        f"predict 10 movies (ALS ridge fold-in): "
        f"{timed(lambda u: recommender.predict(u, u.movie_ids[:10]), users)}"
    )
    print(
        f"predict 10 movies, heaviest user: "
        f"{timed(lambda u: recommender.predict(u, u.movie_ids[:10]), [heavy] * 200)}"
    )
    listed = recommender.movie_ids[1:501]
    print(f"similar(movie), 10 from the neighbour list: {timed(recommender.similar, listed)}")
    unlisted = [int(recommender.movie_ids[0])] * 500
    print(f"similar(movie), no neighbours (cosine fill): {timed(recommender.similar, unlisted)}")


if __name__ == "__main__":
    main()
