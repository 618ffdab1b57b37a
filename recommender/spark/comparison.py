"""``movierec evaluate --engine spark``: the Spark-trained models beside the NumPy engine's.

The same protocols and splits as :mod:`recommender.comparison` (same seed, same folds, same
temporal split): rating prediction by k-fold cross-validation, each fold's test users folded in
from their train rows as the server does, and the temporal top-10 ranking. Fit times are each
engine's own, on this machine: Spark's include its job scheduling, which dominates at this size.
"""

from __future__ import annotations

import time
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from recommender.comparison import (
    batch_scores,
    fit_and_score,
    random_folds,
    rating_model_scores,
    summary,
)
from recommender.dataset import split_rows
from recommender.evaluate import K, RankingTask, temporal_split
from recommender.models.als import ALSRating
from recommender.models.mllib_als import MLlibALSRating
from recommender.models.puresvd import PureSVD
from recommender.spark.frames import frame_from_arrays, index_ratings
from recommender.spark.puresvd import fit_puresvd
from recommender.spark.training import SparkConfig
from recommender.training import ServedConfig

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

NUMPY_ALS = "NumPy engine: ALS biased (served above the size threshold)"
SPARK_ALS = "Spark engine: MLlib ALS + biases, users folded in (ridge)"
NUMPY_RANKER = "NumPy engine: served PureSVD"
SPARK_RANKER = "Spark engine: served PureSVD (randomized SVD, passes on Spark)"
# The ratings' columns as the Spark ranker reads them, and their types.
COLUMNS = {"user_id": np.int64, "movie_id": np.int64, "rating": np.float64}


def run_spark_comparison(
    frame: pd.DataFrame,
    spark: SparkSession,
    *,
    seed: int,
    quick: bool,
    catalog_movie_ids: np.ndarray,
    rating_only: bool = False,
) -> dict[str, Any]:
    """Both engines' rating models over the folds (with what each fold's MLlib fit chose on
    its own validation carve) and, unless ``rating_only``, both rankers on the temporal
    split."""
    frame = frame.reset_index(drop=True)
    served, config = ServedConfig(), SparkConfig()
    folds = 2 if quick else 5
    per_fold: dict[str, list[tuple[float, float, float | None]]] = {NUMPY_ALS: [], SPARK_ALS: []}
    searches = []
    for rows in random_folds(len(frame), folds, seed):
        train, test = split_rows(frame, rows)
        numpy_als = ALSRating(served.als, seed=seed)
        per_fold[NUMPY_ALS].append(rating_model_scores(numpy_als, train, test, catalog_movie_ids))
        mllib = MLlibALSRating(config.als, seed=seed)
        fitted, scores = fit_and_score(mllib, train, test, catalog_movie_ids)
        per_fold[SPARK_ALS].append(scores)
        searches.append(fitted.validation)
    results: dict[str, Any] = {
        "seed": seed,
        "quick": quick,
        "spark_version": spark.version,
        "master": str(spark.sparkContext.master),
        "rating": {
            f"cv_{folds}_fold": {name: summary(scores) for name, scores in per_fold.items()}
        },
        "validation": {SPARK_ALS: {"params": asdict(config.als), "per_fold": searches}},
    }
    if rating_only:
        return results
    return results | ranking_comparison(frame, spark, seed=seed)


def ranking_comparison(frame: pd.DataFrame, spark: SparkSession, *, seed: int) -> dict[str, Any]:
    """The served PureSVD fitted by each engine on the temporal split's train part: the
    ranking table and how far apart the two engines' lists and kernels are."""
    served, config = ServedConfig(), SparkConfig()
    task = RankingTask.from_split(*temporal_split(frame))
    started = time.perf_counter()
    reference = PureSVD(served.ranker, seed=seed).fit(task.train)
    numpy_seconds = time.perf_counter() - started
    started = time.perf_counter()
    train = task.train.frame
    ratings = frame_from_arrays(
        spark,
        {name: train[name].to_numpy(dtype) for name, dtype in COLUMNS.items()},
        "user_id long, movie_id long, rating double",
        partitions=config.partitions,
    )
    indexed = index_ratings(ratings, task.train.movie_ids, partitions=config.partitions)
    try:
        distributed = fit_puresvd(indexed, served.ranker, seed=seed)
    finally:
        indexed.frame.unpersist()
    spark_seconds = time.perf_counter() - started
    lists = {
        NUMPY_RANKER: task.top_k(batch_scores(task.train, task.rows, reference)),
        SPARK_RANKER: task.top_k(batch_scores(task.train, task.rows, distributed)),
    }
    same = np.mean(
        [
            np.array_equal(lists[NUMPY_RANKER][u], lists[SPARK_RANKER][u])
            for u in lists[NUMPY_RANKER]
        ]
    )
    return {
        "ranking": {
            NUMPY_RANKER: {**task.report(lists[NUMPY_RANKER]), "seconds": numpy_seconds},
            SPARK_RANKER: {**task.report(lists[SPARK_RANKER]), "seconds": spark_seconds},
        },
        "ranking_agreement": {
            "users": len(lists[NUMPY_RANKER]),
            "same_top_k": float(same),
            "max_kernel_difference": float(
                np.abs(
                    reference.item_factors @ reference.item_factors.T
                    - distributed.item_factors @ distributed.item_factors.T
                ).max()
            ),
        },
    }


def to_markdown(results: dict[str, Any], *, command: str) -> str:
    """The report: one table per task, then how far apart the two rankers are."""
    (cv_name, cv), *_ = results["rating"].items()
    lines = [
        f"# Spark engine beside the NumPy engine (`{command}`)",
        "",
        f"Spark {results['spark_version']}, master {results['master']}, seed {results['seed']}.",
        "",
        f"| model | {cv_name} RMSE | MAE | fit s |",
        "| --- | ---: | ---: | ---: |",
    ]
    for name, row in cv.items():
        lines.append(
            f"| {name} | {row['rmse_mean']:.4f} ± {row['rmse_std']:.4f} | "
            f"{row['mae_mean']:.4f} | {row['seconds_mean']:.2f} |"
        )
    lines += _search_lines(results["validation"])
    if "ranking" not in results:
        return "\n".join([*lines, ""])
    lines += [
        "",
        f"| ranker (temporal split) | P@{K} | R@{K} | NDCG@{K} | MAP@{K} | coverage | fit s |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, row in results["ranking"].items():
        lines.append(
            f"| {name} | {row['precision']:.4f} | {row['recall']:.4f} | {row['ndcg']:.4f} | "
            f"{row['map']:.4f} | {row['coverage']:.3f} | {row['seconds']:.2f} |"
        )
    agreement = results["ranking_agreement"]
    lines += [
        "",
        f"Same top-{K} from both engines for {agreement['same_top_k']:.1%} of "
        f"{agreement['users']} users; largest difference of the item-item score kernel "
        f"F F^T: {agreement['max_kernel_difference']:.2e}.",
        "",
    ]
    return "\n".join(lines)


def _search_lines(validation: dict[str, Any]) -> list[str]:
    """What each fold's MLlib fit chose on its own carve, in one line per fold."""
    lines = ["", f"{SPARK_ALS}, chosen on each fold's own validation carve of its train part:"]
    for number, search in enumerate(validation[SPARK_ALS]["per_fold"], start=1):
        if "chosen" not in search:
            lines.append(f"- fold {number}: {search.get('skipped', 'no search')}")
            continue
        chosen = search["chosen"]
        lines.append(
            f"- fold {number}: regParam {chosen['reg_param']}, fold-in penalties bias "
            f"{chosen['bias_reg']}, factors {chosen['factor_reg']} (validation RMSE "
            f"{chosen['rmse']:.4f} on {search['rows']:,} ratings, best of {len(search['grid'])})"
        )
    return lines
