"""The engine's working DataFrame: each rating with its movie's position in the shared index.

Arrays the driver holds (the movie index, an evaluation fold's ratings) reach Spark as a
broadcast variable that a few tiny tasks slice into rows (:func:`frame_from_arrays`), not as a
``createDataFrame`` of a pandas frame, whose rows travel inside the tasks themselves: at ML-25M
shape the 62,423-movie index made Spark warn of a task "of very large size" (1.2 MiB; 1.9 MiB
for an ml-latest-small fold), each such task shipped whole on every run of its stage.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from data.domain import RATING_SCALE
from recommender.dataset import TrainingData
from recommender.spark.session import SparkEngineError

if TYPE_CHECKING:
    from pyspark import Broadcast
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
    positions = frame_from_arrays(
        spark,
        {"movie_id": movie_ids, "movie": np.arange(len(movie_ids), dtype=np.int64)},
        "movie_id long, movie long",
        partitions=partitions,
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


def partition_frame(batches: Iterable[pd.DataFrame]) -> pd.DataFrame | None:
    """One partition's Arrow batches (what ``mapInPandas`` hands a function) as one frame, or
    None when the partition holds no rows: with more partitions than users some are empty."""
    parts = [batch for batch in batches if not batch.empty]
    return pd.concat(parts, ignore_index=True) if parts else None


def local_frame(spark: SparkSession, data: TrainingData, *, partitions: int) -> DataFrame:
    """``data``'s ratings as the engine's (user_id, movie, rating) DataFrame, hash-partitioned
    by user as :func:`index_ratings`'s (what the MLlib fit's carve needs) and cached: the
    caller unpersists it."""
    matrix = data.matrix.tocoo()
    columns = {
        "user_id": data.user_ids[matrix.row].astype(np.int64),
        "movie": matrix.col.astype(np.int64),
        "rating": matrix.data.astype(np.float64),
    }
    frame = frame_from_arrays(
        spark, columns, "user_id long, movie long, rating double", partitions=partitions
    )
    return frame.repartition(partitions, "user_id").cache()


def frame_from_arrays(
    spark: SparkSession, columns: Mapping[str, np.ndarray], schema: str, *, partitions: int
) -> DataFrame:
    """A DataFrame of ``columns`` (equal-length arrays on the driver) in ``schema``'s order:
    the arrays are broadcast once and each of ``partitions`` tasks slices its share of rows
    out of them, so a task carries its chunk number and the bounds, however many rows there
    are. The plan holds the broadcast (Spark keeps it while the DataFrame lives)."""
    shared = spark.sparkContext.broadcast({name: np.asarray(v) for name, v in columns.items()})
    length = len(next(iter(columns.values())))
    bounds = np.linspace(0, length, partitions + 1).astype(np.int64).tolist()
    chunks = spark.range(0, partitions, numPartitions=partitions)
    return chunks.mapInPandas(_slicer(shared, bounds), schema=schema)


def _slicer(
    shared: Broadcast[dict[str, np.ndarray]], bounds: list[int]
) -> Callable[[Iterable[pd.DataFrame]], Iterator[pd.DataFrame]]:
    """The function each task runs: the rows of the broadcast arrays its chunk numbers name."""

    def rows(batches: Iterable[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        for batch in batches:
            for chunk in batch["id"].tolist():
                low, high = bounds[chunk], bounds[chunk + 1]
                yield pd.DataFrame({name: v[low:high] for name, v in shared.value.items()})

    return rows
