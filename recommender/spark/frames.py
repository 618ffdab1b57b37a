"""The engine's working DataFrame: each rating with its movie's position in the shared index."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from data.domain import RATING_SCALE
from recommender.dataset import TrainingData
from recommender.spark.session import SparkEngineError

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession


@dataclass(frozen=True)
class Indexed:
    """Ratings as (user_id, movie, rating), partitioned by user and cached, with what every
    model needs on the driver: the movie index, per-movie counts and sums, the user count."""

    frame: DataFrame
    movie_ids: np.ndarray
    counts: np.ndarray
    sums: np.ndarray
    n_users: int
    n_ratings: int


def index_ratings(ratings: DataFrame, catalog_movie_ids: np.ndarray, *, partitions: int) -> Indexed:
    """The movie index is the catalog plus every rated movie (as the NumPy engine's); the
    ratings are checked (none missing or off the scale) and hash-partitioned by user, so one
    user's row of the rating matrix is always in one partition."""
    from pyspark.sql import functions as sf

    spark = ratings.sparkSession
    low, high = RATING_SCALE.bounds
    rating = sf.col("rating")
    bad = sf.col("user_id").isNull() | rating.isNull() | (rating < low) | (rating > high)
    # One pass for the rated movies, their counts and sums, and the ratings that are refused.
    per_movie = (
        ratings.groupBy("movie_id")
        .agg(
            sf.count("*").alias("n"),
            sf.sum("rating").alias("s"),
            sf.sum(sf.when(bad, 1).otherwise(0)).alias("bad"),
        )
        .toPandas()
    )
    refused = int(per_movie["bad"].sum()) + int(per_movie["movie_id"].isna().sum())
    if refused:
        raise SparkEngineError(f"{refused:,} ratings lack an id or are outside {low}-{high}")
    if per_movie.empty:
        raise SparkEngineError("no ratings to train on: export or load some first")
    rated = per_movie["movie_id"].to_numpy(np.int64)
    movie_ids = np.union1d(np.asarray(catalog_movie_ids, dtype=np.int64), rated)
    where = np.searchsorted(movie_ids, rated)
    counts = np.zeros(len(movie_ids))
    sums = np.zeros(len(movie_ids))
    counts[where] = per_movie["n"].to_numpy(np.float64)
    sums[where] = per_movie["s"].to_numpy(np.float64)
    positions = spark.createDataFrame(
        pd.DataFrame({"movie_id": movie_ids, "movie": np.arange(len(movie_ids))})
    )
    frame = (
        ratings.join(sf.broadcast(positions), "movie_id")
        .select(
            sf.col("user_id").cast("long"),
            sf.col("movie").cast("long"),
            sf.col("rating").cast("double"),
        )
        .repartition(partitions, "user_id")
        .cache()
    )
    # Counting the users fills the cache: every later pass reads it.
    n_users = frame.select("user_id").distinct().count()
    return Indexed(frame, movie_ids, counts, sums, n_users, int(counts.sum()))


def local_frame(spark: SparkSession, data: TrainingData) -> DataFrame:
    """``data``'s ratings as the engine's (user_id, movie, rating) DataFrame."""
    matrix = data.matrix.tocoo()
    frame = {
        "user_id": data.user_ids[matrix.row].astype(np.int64),
        "movie": matrix.col.astype(np.int64),
        "rating": matrix.data.astype(np.float64),
    }
    return spark.createDataFrame(pd.DataFrame(frame))
