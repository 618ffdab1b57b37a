"""``movierec train --engine spark``: the served models' item side fitted on Spark.

The ranker is the served PureSVD (:mod:`recommender.spark.puresvd`, the NumPy engine's
randomized SVD with its passes on Spark), the rating model MLlib ALS with biases
(:mod:`recommender.spark.als`), the cold-start list popularity from per-movie aggregates. The
result is a :class:`~recommender.serving.Recommender` of registered model classes, saved like
any other. Item-neighbour lists are not fitted here (the README's "Spark" section says why):
similar movies then come from the ranker's item-factor cosine, as for any rating model
without lists.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import numpy as np

from recommender.models.mllib_als import MLlibALSParams, MLlibALSRating
from recommender.models.popularity import (
    Popularity,
    PopularityMethod,
    PopularityParams,
    scores_from_totals,
)
from recommender.models.puresvd import PureSVDParams
from recommender.serving import Recommender
from recommender.spark.als import fit_als
from recommender.spark.frames import index_ratings
from recommender.spark.puresvd import fit_puresvd

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

ALGORITHM = "puresvd+mllib-als"

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SparkConfig:
    """What the Spark engine fits: the served ranker's hyper-parameters (the NumPy engine's),
    MLlib ALS's, the cold-start method, and how many partitions hold the ratings."""

    ranker: PureSVDParams = field(default_factory=PureSVDParams)
    als: MLlibALSParams = field(default_factory=MLlibALSParams)
    popularity: PopularityMethod = "count"
    partitions: int = 8

    def sized(
        self,
        *,
        ranker_factors: int | None = None,
        als_rank: int | None = None,
        als_iterations: int | None = None,
        partitions: int | None = None,
        als_reg_param: float | None = None,
    ) -> SparkConfig:
        """This configuration with the sizes given (``None`` keeps one): ``movierec train
        --engine spark``'s ``--ranker-factors``, ``--als-rank``, ``--als-iterations``,
        ``--partitions`` and ``--als-reg-param``. A regParam given is the only one tried:
        each one tried is a whole MLlib fit on the validation carve, and at 25 M ratings the
        search was 93 % of the job (README, "Training on Spark"). Two fits remain, the carve's
        (the fold-in penalties are still chosen on it) and the final one, against at least
        four."""
        ranker = replace(self.ranker, factors=ranker_factors or self.ranker.factors)
        als = replace(
            self.als,
            rank=als_rank or self.als.rank,
            max_iter=als_iterations or self.als.max_iter,
        )
        if als_reg_param is not None:
            als = replace(als, reg_param=als_reg_param, reg_param_alternatives=())
        return replace(self, ranker=ranker, als=als, partitions=partitions or self.partitions)


def fit_on_spark(
    ratings: DataFrame, catalog_movie_ids: np.ndarray, config: SparkConfig, *, seed: int
) -> Recommender:
    """Fit every role on ``ratings`` (user_id, movie_id, rating) over the catalog's index."""
    started = time.perf_counter()
    indexed = index_ratings(ratings, catalog_movie_ids, partitions=config.partitions)
    log.info("Spark: %d ratings indexed in %.1f s", indexed.n_ratings, _since(started))
    try:
        started = time.perf_counter()
        ranker = fit_puresvd(indexed, config.ranker, seed=seed)
        log.info("Spark: ranker SVD in %.1f s", _since(started))
        started = time.perf_counter()
        item_side = fit_als(indexed.frame, len(indexed.movie_ids), config.als, seed=seed)
        log.info("Spark: biases and ALS in %.1f s", _since(started))
    finally:
        indexed.frame.unpersist()
    params = PopularityParams(config.popularity)
    scores = scores_from_totals(indexed.counts, indexed.sums, params.method, prior=params.prior)
    return Recommender(
        movie_ids=indexed.movie_ids,
        ranker=ranker,
        rating=MLlibALSRating(config.als, seed, **item_side),
        cold_start=Popularity(params, movie_scores=scores),
        algorithm=ALGORITHM,
    )


def _since(started: float) -> float:
    return time.perf_counter() - started
