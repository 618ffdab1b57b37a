"""Where the Spark job reads ratings: a Parquet export, or PostgreSQL over JDBC.

``movierec export --parquet DIR`` writes ``DIR/ratings.parquet`` (user_id, movie_id, rating,
timestamp) and ``DIR/movies.parquet`` (movie_id: the catalog the artifact is checked against).
A cluster reads DIR from wherever its nodes can (HDFS, S3, a shared mount): the path is handed
to Spark as it is.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from recommender.dataset import check_frame
from recommender.spark.session import SparkEngineError, first_line

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

RATINGS = "ratings.parquet"
MOVIES = "movies.parquet"
# PostgreSQL's JDBC driver as Debian installs it (libpostgresql-jdbc-java).
POSTGRES_JDBC_JAR = "/usr/share/java/postgresql.jar"


@dataclass(frozen=True)
class Ratings:
    """The ratings as a Spark DataFrame (user_id, movie_id, rating) and the catalog's ids."""

    frame: DataFrame
    catalog_movie_ids: np.ndarray
    source: str


def write_parquet(frame: pd.DataFrame, catalog_movie_ids: np.ndarray, folder: Path) -> None:
    """The export: every rating and the catalog's movie ids, as two Parquet files."""
    check_frame(frame)
    folder.mkdir(parents=True, exist_ok=True)
    columns = frame[["user_id", "movie_id", "rating", "timestamp"]].astype(
        {"user_id": "int32", "movie_id": "int32", "rating": "float32", "timestamp": "int64"}
    )
    columns.to_parquet(folder / RATINGS, index=False)
    movies = pd.DataFrame({"movie_id": np.asarray(catalog_movie_ids, dtype=np.int32)})
    movies.to_parquet(folder / MOVIES, index=False)


def read_parquet(spark: SparkSession, folder: str) -> Ratings:
    """The export at ``folder`` (a local path or any URL the cluster reads)."""
    from pyspark.errors import AnalysisException

    base = folder.rstrip("/")
    try:
        ratings = spark.read.parquet(f"{base}/{RATINGS}")
        movies = spark.read.parquet(f"{base}/{MOVIES}").select("movie_id").toPandas()
        frame = ratings.select("user_id", "movie_id", "rating")
    except AnalysisException as exc:
        raise SparkEngineError(
            f"cannot read the Parquet export at {folder} ({first_line(exc)}): write it with "
            "`movierec export --parquet DIR`"
        ) from exc
    catalog = np.unique(movies["movie_id"].to_numpy(np.int64))
    return Ratings(frame, catalog, f"parquet:{folder}")


def read_jdbc(spark: SparkSession, url: str, properties: dict[str, str]) -> Ratings:
    """The ``ratings`` and ``movies`` tables of a store over JDBC (``jdbc:postgresql://...``);
    the session needs the driver's jar (``spark.jars``)."""
    from py4j.protocol import Py4JJavaError

    try:
        ratings = spark.read.jdbc(url, "ratings", properties=properties)
        movies = spark.read.jdbc(url, "movies", properties=properties).select("id").toPandas()
    except Py4JJavaError as exc:
        raise SparkEngineError(
            f"cannot read the store over JDBC: {first_line(exc.java_exception)}"
        ) from exc
    frame = ratings.select("user_id", "movie_id", "rating")
    return Ratings(frame, np.unique(movies["id"].to_numpy(np.int64)), "jdbc")
