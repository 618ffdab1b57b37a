"""The rating model's item side on Spark: biases by aggregation, then MLlib ALS on the rest."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from recommender.dataset import TrainingData
from recommender.models.mllib_als import MLlibALSParams, MLlibALSRating
from recommender.spark.frames import local_frame
from recommender.spark.session import SparkEngineError

if TYPE_CHECKING:
    from pyspark.sql import DataFrame


def fit_als(
    indexed: DataFrame, n_movies: int, params: MLlibALSParams, *, seed: int
) -> dict[str, Any]:
    """The item side (:class:`MLlibALSRating`'s fitted fields) from ``indexed`` (user_id,
    movie: the movie's index, rating), ``n_movies`` in the index; movies without ratings keep
    zero bias and factors, as in every biased model."""
    from pyspark.ml.recommendation import ALS
    from pyspark.sql import functions as sf

    mean = float(indexed.agg(sf.avg("rating")).collect()[0][0])
    centred = indexed.select("user_id", "movie", (sf.col("rating") - mean).alias("centred"))

    def bias_step(frame: DataFrame, key: str, offset: str, reg: float, name: str) -> DataFrame:
        total = sf.sum(sf.col("centred") - sf.col(offset)) if offset else sf.sum("centred")
        return frame.groupBy(key).agg((total / (sf.count("*") + reg)).alias(name))

    item_bias = bias_step(centred, "movie", "", params.item_bias_reg, "item_bias")
    with_item = centred.join(sf.broadcast(item_bias), "movie")
    user_bias = bias_step(with_item, "user_id", "item_bias", params.user_bias_reg, "user_bias")
    with_user = centred.join(user_bias, "user_id")
    item_bias = bias_step(
        with_user, "movie", "user_bias", params.item_bias_reg, "item_bias"
    ).localCheckpoint()
    residual = with_user.join(sf.broadcast(item_bias), "movie").select(
        sf.col("user_id").cast("int").alias("user"),
        sf.col("movie").cast("int").alias("movie"),
        (sf.col("centred") - sf.col("user_bias") - sf.col("item_bias")).alias("residual"),
    )
    als = ALS(
        rank=params.rank,
        maxIter=params.max_iter,
        regParam=params.reg_param,
        userCol="user",
        itemCol="movie",
        ratingCol="residual",
        implicitPrefs=False,
        nonnegative=False,
        seed=seed,
        # As many blocks as the ratings have partitions (MLlib's default is 10 of each).
        numUserBlocks=indexed.rdd.getNumPartitions(),
        numItemBlocks=indexed.rdd.getNumPartitions(),
    )
    model = als.fit(residual)
    factors = model.itemFactors.toPandas()
    biases = item_bias.toPandas()
    item_factors = np.zeros((n_movies, params.rank))
    rows = factors["id"].to_numpy(np.int64)
    item_factors[rows] = np.asarray(factors["features"].tolist(), dtype=np.float64)
    bias = np.zeros(n_movies)
    bias[biases["movie"].to_numpy(np.int64)] = biases["item_bias"].to_numpy(np.float64)
    known = np.zeros(n_movies, dtype=bool)
    known[biases["movie"].to_numpy(np.int64)] = True
    return {
        "bias_reg": params.fold_in_bias_reg,
        "factor_reg": params.fold_in_factor_reg,
        "global_mean": mean,
        "item_bias": bias,
        "item_factors": item_factors,
        "known": known,
    }


def fit_local(model: MLlibALSRating, data: TrainingData) -> dict[str, Any]:
    """:meth:`MLlibALSRating.fit`: ``data`` sent to the active Spark session and fitted there."""
    from pyspark.sql import SparkSession

    spark = SparkSession.getActiveSession()
    if spark is None:
        raise SparkEngineError("fitting an MLlib model needs a Spark session: start one first")
    indexed = local_frame(spark, data)
    return fit_als(indexed, len(data.movie_ids), model.params, seed=model.seed)
