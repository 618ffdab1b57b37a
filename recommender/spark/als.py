"""The rating model's item side on Spark: biases by aggregation, then MLlib ALS on the rest."""

from __future__ import annotations

import itertools
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from recommender.dataset import TrainingData, per_user
from recommender.models.contract import clip_to_scale
from recommender.models.mllib_als import MLlibALSParams, MLlibALSRating
from recommender.spark.frames import local_frame
from recommender.spark.session import SparkEngineError

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

# Below this many carve ratings a choice is noise: the given penalties serve.
MIN_VALIDATION_ROWS = 100
# The carve's resolution: a rating is held out when its hash falls in the first buckets.
CARVE_BUCKETS = 10_000


def fit_als(
    indexed: DataFrame, n_movies: int, params: MLlibALSParams, *, seed: int
) -> dict[str, Any]:
    """:class:`MLlibALSRating`'s fitted fields from ``indexed`` (user_id, movie: the movie's
    index, rating), ``n_movies`` in the index: ``reg_param`` and the fold-in penalties chosen
    on a validation carve (the module doc of :mod:`recommender.models.mllib_als`), then the item
    side refitted on every rating under the chosen ``reg_param``."""
    fallback = {
        "bias_reg": params.fold_in_bias_reg,
        "factor_reg": params.fold_in_factor_reg,
    }
    if not params.searched:
        item_side = fit_item_side(indexed, n_movies, params, seed=seed)
        return {**item_side, **fallback, "validation": {"skipped": "nothing to choose"}}
    from pyspark.sql import functions as sf

    # A seeded hash of the rating, not a random draw: the same carve however the ratings are
    # partitioned (the engine's frame and the evaluation's differ) and on every recomputation.
    key = [sf.col("user_id").cast("long"), sf.col("movie").cast("long"), sf.lit(seed).cast("long")]
    draw = sf.pmod(sf.xxhash64(*key), sf.lit(CARVE_BUCKETS))
    flagged = indexed.withColumn("held", draw < round(params.validation_fraction * CARVE_BUCKETS))
    rest = flagged.filter(~sf.col("held")).drop("held")
    carve = flagged.filter(sf.col("held")).select("user_id", "movie", "rating")
    valid = carve.toPandas()
    if len(valid) < MIN_VALIDATION_ROWS:
        item_side = fit_item_side(indexed, n_movies, params, seed=seed)
        validation = {"rows": len(valid), "skipped": "too few ratings"}
        return {**item_side, **fallback, "validation": validation}
    # What the server would know of the carve's users: their ratings outside it.
    history = rest.join(carve.select("user_id").distinct(), "user_id").toPandas()
    bias_regs, factor_regs = params.fold_in_bias_regs, params.fold_in_factor_regs
    penalties = np.array(list(itertools.product(bias_regs, factor_regs)), dtype=np.float64)
    trials = []
    for reg_param in params.reg_params:
        item_side = fit_item_side(rest, n_movies, replace(params, reg_param=reg_param), seed=seed)
        errors = validation_rmse(item_side, history, valid, penalties)
        trials += [
            {"reg_param": reg_param, "bias_reg": bias, "factor_reg": factor, "rmse": error}
            for (bias, factor), error in zip(penalties.tolist(), errors, strict=True)
        ]
    best = min(trials, key=lambda trial: trial["rmse"])
    chosen = replace(params, reg_param=best["reg_param"])
    item_side = fit_item_side(indexed, n_movies, chosen, seed=seed)
    validation = {"rows": len(valid), "chosen": dict(best), "grid": trials}
    return {
        **item_side,
        "bias_reg": best["bias_reg"],
        "factor_reg": best["factor_reg"],
        "validation": validation,
    }


def validation_rmse(
    item_side: dict[str, Any], history: pd.DataFrame, valid: pd.DataFrame, penalties: np.ndarray
) -> list[float]:
    """Validation RMSE of ``item_side`` under each (bias, factor) fold-in penalty row: each
    carve user folded in from their ``history`` as the server would, predictions clipped."""
    model = MLlibALSRating(bias_reg=0.0, factor_reg=0.0, **item_side)
    predicted = np.empty((len(penalties), len(valid)))
    # per_user reads (user_id, movie_id, rating, timestamp); here the movie is its index.
    as_ids = {"movie": "movie_id"}
    history = history.rename(columns=as_ids).assign(timestamp=0)
    valid = valid.rename(columns=as_ids).assign(timestamp=0)
    for rows, items, ratings, targets in per_user(history, valid):
        for row, side in enumerate(model.fold_in_under(items, ratings, penalties)):
            predicted[row, rows] = model.estimate(side, targets)
    target = valid["rating"].to_numpy(np.float64)
    squared = (clip_to_scale(predicted) - target) ** 2
    return [float(error) for error in np.sqrt(squared.mean(axis=1))]


def fit_item_side(
    indexed: DataFrame, n_movies: int, params: MLlibALSParams, *, seed: int
) -> dict[str, Any]:
    """The global mean, item biases, ALS item factors and ``known`` from ``indexed`` under
    ``params.reg_param``; movies without ratings keep zero bias and factors, as in every biased
    model."""
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
