"""The rating model's item side on Spark: biases by aggregation, then MLlib ALS on the rest."""

from __future__ import annotations

import itertools
import logging
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from recommender.dataset import TrainingData, per_user
from recommender.models.contract import clip_to_scale
from recommender.models.mllib_als import MLlibALSParams, MLlibALSRating
from recommender.spark.frames import local_frame, partition_frame
from recommender.spark.session import SparkEngineError

if TYPE_CHECKING:
    from pyspark import Broadcast
    from pyspark.sql import DataFrame

log = logging.getLogger(__name__)

# Below this many carve ratings a choice is noise: the given penalties serve.
MIN_VALIDATION_ROWS = 100
# The carve's resolution: a rating is held out when its hash falls in the first buckets.
CARVE_BUCKETS = 10_000
# When the best regParam is the largest (smallest) tried, the next one tried is this many times
# larger (smaller), at most MAX_GRID_EXTENSIONS times: each is one more ALS fit on the carve's
# rest. Constants, not MLlibALSParams fields, so artifacts written before them still load.
GRID_STEP = 2.0
MAX_GRID_EXTENSIONS = 3


def fit_als(
    indexed: DataFrame, n_movies: int, params: MLlibALSParams, *, seed: int
) -> dict[str, Any]:
    """:class:`MLlibALSRating`'s fitted fields from ``indexed`` (user_id, movie: the movie's
    index, rating; hash-partitioned by user, so a partition holds whole users), ``n_movies`` in
    the index: ``reg_param`` and the fold-in penalties chosen on a validation carve (the module
    doc of :mod:`recommender.models.mllib_als`), then the item side refitted on every rating
    under the chosen ``reg_param``.

    The carve stays distributed: a seeded hash flags the held-out ratings in place, and each
    partition folds its own carve users in from their other ratings (the item side broadcast)
    and returns only its sums of squared errors, so the driver holds one row per partition, not
    the carve (about 20 M rows with their histories at ML-25M shape)."""
    fallback = {
        "bias_reg": params.fold_in_bias_reg,
        "factor_reg": params.fold_in_factor_reg,
    }
    if not params.searched:
        item_side = fit_item_side(indexed, n_movies, params, seed=seed)
        return {**item_side, **fallback, "validation": {"skipped": "nothing to choose"}}
    from pyspark.sql import functions as sf

    flagged = flag_carve(indexed, params.validation_fraction, seed=seed)
    rest = flagged.filter(~sf.col("held")).drop("held")
    rows = flagged.filter(sf.col("held")).count()
    if rows < MIN_VALIDATION_ROWS:
        item_side = fit_item_side(indexed, n_movies, params, seed=seed)
        validation = {"rows": rows, "skipped": "too few ratings"}
        return {**item_side, **fallback, "validation": validation}
    bias_regs, factor_regs = params.fold_in_bias_regs, params.fold_in_factor_regs
    penalties = np.array(list(itertools.product(bias_regs, factor_regs)), dtype=np.float64)

    def score(reg_param: float) -> list[float]:
        # Each is a whole ALS fit (minutes at ML-25M shape): one log line each, so a long
        # search shows its progress and what it found.
        started = time.perf_counter()
        item_side = fit_item_side(rest, n_movies, replace(params, reg_param=reg_param), seed=seed)
        errors = carve_rmse(flagged, item_side, penalties)
        log.info(
            "Spark ALS: regParam %g, validation RMSE %.4f (best fold-in penalties) in %.1f s",
            reg_param,
            min(errors),
            time.perf_counter() - started,
        )
        return errors

    scores, extensions = search_reg_param(score, params.reg_params)
    trials = [
        {"reg_param": reg_param, "bias_reg": bias, "factor_reg": factor, "rmse": error}
        for reg_param, errors in scores.items()
        for (bias, factor), error in zip(penalties.tolist(), errors, strict=True)
    ]
    best = min(trials, key=lambda trial: trial["rmse"])
    chosen = replace(params, reg_param=best["reg_param"])
    log.info("Spark ALS: regParam %g chosen; refitting on every rating", chosen.reg_param)
    item_side = fit_item_side(indexed, n_movies, chosen, seed=seed)
    validation = {
        "rows": rows,
        "chosen": dict(best),
        "grid": trials,
        "reg_param_extensions": extensions,
        "reg_param_at_edge": next_reg_param(best_rmse(scores)) is not None,
    }
    return {
        **item_side,
        "bias_reg": best["bias_reg"],
        "factor_reg": best["factor_reg"],
        "validation": validation,
    }


def flag_carve(indexed: DataFrame, fraction: float, *, seed: int) -> DataFrame:
    """``indexed`` with a ``held`` column: about ``fraction`` of the ratings, drawn by a seeded
    hash of each rating rather than a random draw, so the carve is the same however the ratings
    are partitioned (the engine's frame and the evaluation's differ) and on every recomputation,
    and it is computed in place, row by row, with no shuffle and nothing sent to the driver."""
    from pyspark.sql import functions as sf

    key = [sf.col("user_id").cast("long"), sf.col("movie").cast("long"), sf.lit(seed).cast("long")]
    draw = sf.pmod(sf.xxhash64(*key), sf.lit(CARVE_BUCKETS))
    return indexed.withColumn("held", draw < round(fraction * CARVE_BUCKETS))


def search_reg_param(
    score: Callable[[float], list[float]],
    given: Sequence[float],
    *,
    max_extensions: int = MAX_GRID_EXTENSIONS,
) -> tuple[dict[float, list[float]], int]:
    """Each regParam's validation errors (``score``: one per fold-in penalty pair), the
    ``given`` ones first, then one past whichever edge is best (:func:`next_reg_param`) until
    the best is inside or ``max_extensions`` more were tried; and how many were."""
    scores = {reg_param: score(reg_param) for reg_param in given}
    extensions = 0
    while extensions < max_extensions:
        wider = next_reg_param(best_rmse(scores))
        if wider is None:
            break
        scores[wider] = score(wider)
        extensions += 1
    return scores, extensions


def best_rmse(scores: Mapping[float, list[float]]) -> dict[float, float]:
    """Each regParam's best validation RMSE over the fold-in penalty pairs."""
    return {reg_param: min(errors) for reg_param, errors in scores.items()}


def next_reg_param(best_rmse: Mapping[float, float], step: float = GRID_STEP) -> float | None:
    """The regParam to try next given each tried one's best validation RMSE: ``step`` times
    past the grid's edge when the best is at that edge, ``None`` when it is inside (or when a
    single regParam was given: there is no search to widen)."""
    if len(best_rmse) < 2:
        return None
    best = min(best_rmse, key=lambda reg: best_rmse[reg])
    if best == max(best_rmse):
        return best * step
    if best == min(best_rmse):
        return best / step
    return None


def carve_rmse(flagged: DataFrame, item_side: dict[str, Any], penalties: np.ndarray) -> list[float]:
    """Validation RMSE of ``item_side`` under each (bias, factor) fold-in penalty row, over
    the ratings ``flagged`` as ``held``: computed where the ratings are (each partition's
    users, :func:`squared_errors`), the item side broadcast once, summed on the driver."""
    context = flagged.sparkSession.sparkContext
    shared = context.broadcast(item_side)
    try:
        sums = flagged.mapInPandas(
            _partition_errors(shared, penalties), schema="squared binary, n long"
        ).collect()
    finally:
        shared.destroy()
    total = np.zeros(len(penalties))
    for row in sums:
        total += np.frombuffer(row["squared"], dtype=np.float64)
    count = sum(int(row["n"]) for row in sums)
    return [float(error) for error in np.sqrt(total / count)]


def _partition_errors(
    shared: Broadcast[dict[str, Any]], penalties: np.ndarray
) -> Callable[[Iterable[pd.DataFrame]], Iterator[pd.DataFrame]]:
    """The function each partition runs: its carve's squared errors under each penalty row."""

    def errors(batches: Iterable[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        frame = partition_frame(batches)
        if frame is None:
            return
        held = frame["held"].to_numpy(bool)
        if not held.any():
            return
        columns = ["user_id", "movie", "rating"]
        squared = squared_errors(
            shared.value, frame.loc[~held, columns], frame.loc[held, columns], penalties
        )
        yield pd.DataFrame({"squared": [squared.tobytes()], "n": [int(held.sum())]})

    return errors


def squared_errors(
    item_side: dict[str, Any], history: pd.DataFrame, valid: pd.DataFrame, penalties: np.ndarray
) -> np.ndarray:
    """Summed squared error of ``item_side`` on ``valid`` under each (bias, factor) fold-in
    penalty row: each carve user folded in from their ``history`` as the server would,
    predictions clipped. ``history`` must hold every rating of ``valid``'s users outside it."""
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
    squared: np.ndarray = ((clip_to_scale(predicted) - target) ** 2).sum(axis=1)
    return squared


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
    partitions = int(spark.sparkContext.defaultParallelism)
    indexed = local_frame(spark, data, partitions=partitions)
    try:
        return fit_als(indexed, len(data.movie_ids), model.params, seed=model.seed)
    finally:
        indexed.unpersist()
