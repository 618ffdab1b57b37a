"""The Spark engine on tiny data: the NumPy engine's models, the same artifact."""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pytest
from scipy import sparse

from recommender.artifact import catalog_fingerprint
from recommender.dataset import TrainingData
from recommender.models.mllib_als import MLlibALSParams, MLlibALSRating
from recommender.models.popularity import Popularity, PopularityParams
from recommender.models.puresvd import PureSVD, PureSVDParams, randomized_svd, truncated_svd
from recommender.serving import Recommender, UserRatings
from recommender.spark.als import (
    MAX_GRID_EXTENSIONS,
    carve_rmse,
    fit_item_side,
    flag_carve,
    next_reg_param,
    search_reg_param,
    squared_errors,
)
from recommender.spark.frames import frame_from_arrays, index_ratings, partition_frame
from recommender.spark.session import SparkEngineError
from recommender.spark.source import read_parquet, write_parquet
from recommender.spark.training import SparkConfig, fit_on_spark
from tests.recommender.synthetic import synthetic_ratings

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

CONFIG = SparkConfig(
    ranker=PureSVDParams(factors=8, beta=0.1, shift=2.0, shrinkage=10.0),
    als=MLlibALSParams(rank=4, max_iter=5, reg_param_alternatives=(0.3,)),
    partitions=3,
)
SEED = 11


@pytest.fixture(scope="module")
def ratings() -> pd.DataFrame:
    return synthetic_ratings(n_users=50, n_movies=70, per_user=20, seed=3)


@pytest.fixture(scope="module")
def catalog(ratings: pd.DataFrame) -> np.ndarray:
    # Two catalog movies nobody rated: indexed, never ranked.
    return np.union1d(ratings["movie_id"].unique(), [2, 4])


class _Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


@pytest.fixture(scope="module")
def fit_and_log(
    spark: SparkSession, ratings: pd.DataFrame, catalog: np.ndarray
) -> tuple[Recommender, list[str]]:
    """The module's fit, and what the ALS search logged during it alone (caplog is per test;
    this fit is not, and other tests' fits log the same lines)."""
    logger, handler = logging.getLogger("recommender.spark.als"), _Lines()
    level = logger.level
    logger.setLevel(logging.INFO)
    logger.addHandler(handler)
    try:
        frame = spark.createDataFrame(ratings[["user_id", "movie_id", "rating"]])
        fitted = fit_on_spark(frame, catalog, CONFIG, seed=SEED)
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    return fitted, handler.lines


@pytest.fixture(scope="module")
def fitted(fit_and_log: tuple[Recommender, list[str]]) -> Recommender:
    return fit_and_log[0]


def users(ratings: pd.DataFrame) -> list[UserRatings]:
    return [UserRatings.from_frame(rows) for _, rows in ratings.groupby("user_id")]


def test_the_spark_ranker_is_the_numpy_ranker(
    fitted: Recommender, ratings: pd.DataFrame, catalog: np.ndarray
) -> None:
    """Same test matrix from the same seed, same steps: the factors agree to round-off, and
    so does every user's top-N."""
    data = TrainingData.from_frame(ratings, catalog)
    reference = PureSVD(CONFIG.ranker, seed=SEED).fit(data)
    assert isinstance(fitted.ranker, PureSVD)
    np.testing.assert_array_equal(fitted.movie_ids, data.movie_ids)
    np.testing.assert_allclose(fitted.ranker.column_weights, reference.column_weights, rtol=1e-6)
    spark_kernel = fitted.ranker.item_factors @ fitted.ranker.item_factors.T
    numpy_kernel = reference.item_factors @ reference.item_factors.T
    np.testing.assert_allclose(spark_kernel, numpy_kernel, atol=1e-5)
    served = Recommender(
        movie_ids=data.movie_ids,
        ranker=reference,
        rating=fitted.rating,
        cold_start=fitted.cold_start,
        algorithm="numpy reference",
    )
    for user in users(ratings):
        assert [m for m, _ in fitted.top_n(user, 10)] == [m for m, _ in served.top_n(user, 10)]


def test_popularity_and_the_rating_model_cover_the_index(
    fitted: Recommender, ratings: pd.DataFrame, catalog: np.ndarray
) -> None:
    data = TrainingData.from_frame(ratings, catalog)
    reference = Popularity(PopularityParams("count")).fit(data)
    assert isinstance(fitted.cold_start, Popularity)
    np.testing.assert_array_equal(fitted.cold_start.movie_scores, reference.movie_scores)
    rating = fitted.rating
    assert isinstance(rating, MLlibALSRating)
    unrated = np.isin(data.movie_ids, [2, 4])
    assert not rating.known[unrated].any()
    assert rating.known[~unrated].all()
    assert np.all(rating.item_factors[unrated] == 0)
    assert np.all(rating.item_bias[unrated] == 0)
    assert rating.global_mean == pytest.approx(ratings["rating"].mean(), rel=1e-6)


def test_als_predicts_its_training_ratings_better_than_the_mean(
    fitted: Recommender, ratings: pd.DataFrame
) -> None:
    """The fold-in serves the MLlib item side: users' own ratings come back closer than the
    global mean would (a model whose factors were misplaced would not)."""
    errors = []
    for user in users(ratings):
        errors.append(fitted.predict(user, user.movie_ids) - user.ratings)
    model_rmse = np.sqrt(np.mean(np.concatenate(errors) ** 2))
    mean_rmse = np.sqrt(np.mean((ratings["rating"] - ratings["rating"].mean()) ** 2))
    assert model_rmse < 0.8 * mean_rmse


def test_the_artifact_is_written_and_served_like_any_other(
    fitted: Recommender, ratings: pd.DataFrame, catalog: np.ndarray, tmp_path: Path
) -> None:
    fitted.save(tmp_path, {"catalog_fingerprint": catalog_fingerprint(catalog)})
    loaded = Recommender.load(tmp_path, catalog_movie_ids=catalog)
    assert loaded.algorithm == fitted.algorithm
    assert isinstance(loaded.rating, MLlibALSRating)
    for user in users(ratings)[:10]:
        assert loaded.top_n(user, 10) == fitted.top_n(user, 10)
        np.testing.assert_allclose(
            loaded.predict(user, user.movie_ids), fitted.predict(user, user.movie_ids)
        )


def test_the_mllib_model_fits_through_the_contract(
    spark: SparkSession, ratings: pd.DataFrame, catalog: np.ndarray, fitted: Recommender
) -> None:
    """``fit(TrainingData)`` (the evaluation's path) gives what the engine's DataFrame path
    gave: same data, same seed (one regParam here, so two ALS fits, not five)."""
    data = TrainingData.from_frame(ratings, catalog)
    params = replace(CONFIG.als, reg_param_alternatives=())
    model = MLlibALSRating(params, seed=SEED).fit(data)
    assert isinstance(fitted.rating, MLlibALSRating)
    np.testing.assert_allclose(model.item_bias, fitted.rating.item_bias, atol=1e-9)
    assert model.global_mean == pytest.approx(fitted.rating.global_mean)
    # The carve is a hash of each rating, so both paths hold out the same ratings (the ALS
    # factors, and so the validation errors, depend on the partitions: MLlib's blocks).
    assert model.validation["rows"] == fitted.rating.validation["rows"]
    # One regParam given, so no widening: one trial per fold-in penalty pair.
    assert {trial["reg_param"] for trial in model.validation["grid"]} == {CONFIG.als.reg_param}
    pairs = len(CONFIG.als.fold_in_bias_regs) * len(CONFIG.als.fold_in_factor_regs)
    assert len(model.validation["grid"]) == pairs
    assert model.validation["reg_param_extensions"] == 0


def test_the_validation_carve_chooses_the_penalties_it_serves(fitted: Recommender) -> None:
    """Every regParam x fold-in penalty pair is tried on the carve; the lowest validation RMSE
    is the one served (the fold-in's penalties) and the one ALS was refitted under. The
    regParams tried are the given ones, widened by GRID_STEP past whichever edge was best
    until the best is inside (or the extensions run out, which the record says)."""
    rating = fitted.rating
    assert isinstance(rating, MLlibALSRating)
    search = rating.validation
    keys = ("reg_param", "bias_reg", "factor_reg")
    grid = {tuple(trial[key] for key in keys) for trial in search["grid"]}
    tried = sorted({trial["reg_param"] for trial in search["grid"]})
    assert grid == {
        (reg, bias, factor)
        for reg in tried
        for bias in CONFIG.als.fold_in_bias_regs
        for factor in CONFIG.als.fold_in_factor_regs
    }
    extensions = search["reg_param_extensions"]
    assert len(tried) == 2 + extensions
    assert {0.1, 0.3} <= set(tried)
    chosen = search["chosen"]
    assert chosen["rmse"] == min(trial["rmse"] for trial in search["grid"])
    assert (rating.bias_reg, rating.factor_reg) == (chosen["bias_reg"], chosen["factor_reg"])
    interior = tried[0] < chosen["reg_param"] < tried[-1]
    assert search["reg_param_at_edge"] is not interior
    assert interior or extensions == MAX_GRID_EXTENSIONS
    assert 0 < search["rows"] < 0.3 * 1000


def test_the_search_logs_each_fit_and_the_choice(
    fit_and_log: tuple[Recommender, list[str]],
) -> None:
    """Each regParam is a whole ALS fit, minutes at scale: one line each says what it scored."""
    fitted, als_log = fit_and_log
    rating = fitted.rating
    assert isinstance(rating, MLlibALSRating)
    best: dict[float, float] = {}
    for trial in rating.validation["grid"]:
        reg = trial["reg_param"]
        best[reg] = min(best.get(reg, np.inf), trial["rmse"])
    assert [line.split(" in ")[0] for line in als_log[:-1]] == [
        f"Spark ALS: regParam {reg:g}, validation RMSE {rmse:.4f} (best fold-in penalties)"
        for reg, rmse in best.items()
    ]
    chosen = rating.validation["chosen"]["reg_param"]
    assert als_log[-1] == f"Spark ALS: regParam {chosen:g} chosen; refitting on every rating"


@pytest.mark.parametrize(
    ("best_rmse", "expected"),
    [
        ({0.1: 0.90, 0.2: 0.85}, 0.4),  # the largest is best: try twice as large
        ({0.05: 0.80, 0.1: 0.85, 0.2: 0.90}, 0.025),  # the smallest is best: half as large
        ({0.05: 0.90, 0.1: 0.80, 0.2: 0.85, 0.4: 0.95}, None),  # inside: done
        ({0.1: 0.9}, None),  # one regParam given: nothing is searched
    ],
)
def test_the_reg_param_grid_widens_only_past_a_best_edge(
    best_rmse: dict[float, float], expected: float | None
) -> None:
    assert next_reg_param(best_rmse) == expected


def test_the_search_widens_until_the_best_is_inside_or_the_extensions_run_out() -> None:
    """A validation curve with its minimum at 0.7 (errors per penalty pair: the best counts)."""
    tried = []

    def score(reg_param: float) -> list[float]:
        tried.append(reg_param)
        return [abs(reg_param - 0.7) + 1.0, abs(reg_param - 0.7) + 0.5]

    scores, extensions = search_reg_param(score, (0.1, 0.2))
    assert tried == [0.1, 0.2, 0.4, 0.8, 1.6]  # 0.8 is best, and inside once 1.6 is worse
    assert extensions == 3
    assert scores[0.8] == score(0.8)
    tried.clear()
    _, extensions = search_reg_param(score, (0.1, 0.2), max_extensions=2)
    assert (tried, extensions) == ([0.1, 0.2, 0.4, 0.8], 2)  # still at the edge: stopped
    tried.clear()
    assert search_reg_param(score, (0.1,)) == ({0.1: score(0.1)}, 0)  # nothing to widen


def test_the_carve_is_scored_where_it_lies(spark: SparkSession, ratings: pd.DataFrame) -> None:
    """Each partition folds in its own carve users: the sums over partitions are the RMSE of
    the whole carve scored on one machine (the users split over three partitions)."""
    frame = spark.createDataFrame(ratings[["user_id", "movie_id", "rating"]])
    indexed = index_ratings(frame, ratings["movie_id"].unique(), partitions=3)
    try:
        flagged = flag_carve(indexed.frame, 0.2, seed=SEED).cache()
        item_side = fit_item_side(flagged.drop("held"), len(indexed.movie_ids), CONFIG.als, seed=1)
        penalties = np.array([[2.0, 5.0], [5.0, 30.0]])
        distributed = carve_rmse(flagged, item_side, penalties)
        local = flagged.toPandas()
    finally:
        indexed.frame.unpersist()
    held = local["held"].to_numpy(bool)
    assert 0.1 < held.mean() < 0.3
    history, valid = (local.loc[rows, ["user_id", "movie", "rating"]] for rows in (~held, held))
    squared = squared_errors(item_side, history, valid, penalties)
    np.testing.assert_allclose(distributed, np.sqrt(squared / held.sum()), rtol=1e-12)


def test_a_frame_from_driver_arrays_keeps_every_row_in_order(spark: SparkSession) -> None:
    """Five tasks slice the broadcast arrays: all rows, in order, typed as the schema says."""
    movies = np.arange(11, dtype=np.int64) * 7
    columns = {"movie_id": movies, "movie": np.arange(11, dtype=np.int64)}
    frame = frame_from_arrays(spark, columns, "movie_id long, movie long", partitions=5)
    assert frame.rdd.getNumPartitions() == 5
    back = frame.toPandas()
    assert list(back.columns) == ["movie_id", "movie"]
    np.testing.assert_array_equal(back["movie_id"], movies)
    np.testing.assert_array_equal(back["movie"], np.arange(11))


def test_too_small_a_carve_serves_the_given_penalties(spark: SparkSession) -> None:
    ratings = synthetic_ratings(n_users=10, n_movies=12, per_user=8, seed=4)
    data = TrainingData.from_frame(ratings)
    model = MLlibALSRating(CONFIG.als, seed=SEED).fit(data)
    assert model.validation["skipped"] == "too few ratings"
    assert model.validation["rows"] < 100
    assert (model.bias_reg, model.factor_reg) == (
        CONFIG.als.fold_in_bias_reg,
        CONFIG.als.fold_in_factor_reg,
    )


def test_parquet_export_round_trip(
    spark: SparkSession, ratings: pd.DataFrame, catalog: np.ndarray, tmp_path: Path
) -> None:
    write_parquet(ratings, catalog, tmp_path / "export")
    read = read_parquet(spark, str(tmp_path / "export"))
    np.testing.assert_array_equal(read.catalog_movie_ids, catalog)
    back = read.frame.toPandas().sort_values(["user_id", "movie_id"], ignore_index=True)
    expected = ratings.sort_values(["user_id", "movie_id"], ignore_index=True)
    np.testing.assert_array_equal(back["movie_id"], expected["movie_id"])
    np.testing.assert_allclose(back["rating"], expected["rating"])


def test_no_ratings_and_ratings_off_the_scale_are_refused(
    spark: SparkSession, ratings: pd.DataFrame, catalog: np.ndarray
) -> None:
    empty = spark.createDataFrame([], "user_id long, movie_id long, rating double")
    with pytest.raises(SparkEngineError, match="no ratings"):
        fit_on_spark(empty, catalog, CONFIG, seed=SEED)
    bad = ratings[["user_id", "movie_id", "rating"]].copy()
    bad.loc[3, "rating"] = 7.0
    with pytest.raises(SparkEngineError, match="1 ratings lack an id or are outside"):
        fit_on_spark(spark.createDataFrame(bad), catalog, CONFIG, seed=SEED)


def test_a_missing_export_is_one_clear_error(spark: SparkSession, tmp_path: Path) -> None:
    with pytest.raises(SparkEngineError, match="movierec export --parquet") as error:
        read_parquet(spark, str(tmp_path / "nowhere"))
    assert "\n" not in str(error.value)


def test_randomized_svd_is_the_exact_svd_where_the_width_covers_the_rank() -> None:
    """With as many columns as the matrix's rank the range is found exactly; the factors the
    rank leaves over come back as zeros (the pass drops null directions, not width)."""
    rng = np.random.default_rng(0)
    matrix = rng.normal(size=(30, 4)) @ rng.normal(size=(4, 12))
    values, vectors = truncated_svd(sparse.csr_matrix(matrix), 6, seed=1)
    exact = np.linalg.svd(matrix, compute_uv=False)
    np.testing.assert_allclose(values[:4], exact[:4], rtol=1e-8)
    assert np.all(values[4:] == 0)
    assert np.all(vectors[:, 4:] == 0)
    projector = vectors[:, :4] @ vectors[:, :4].T
    np.testing.assert_allclose(matrix @ projector, matrix, atol=1e-8)


def test_randomized_svd_reads_the_data_only_through_its_passes() -> None:
    """The function both engines call sees the matrix only through ``gram_pass``."""
    rng = np.random.default_rng(2)
    matrix = rng.normal(size=(20, 9))
    calls = []

    def gram_pass(right: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        calls.append(right.shape)
        product = matrix @ right
        return matrix.T @ product, product.T @ product

    values, _ = randomized_svd(gram_pass, matrix.shape, 3, seed=5)
    np.testing.assert_allclose(values, np.linalg.svd(matrix, compute_uv=False)[:3], rtol=1e-3)
    assert calls == [(9, 9)] * 3


def test_the_config_is_the_served_ranker() -> None:
    """The Spark engine serves the ranker ``movierec evaluate`` chose, not a copy of it."""
    assert SparkConfig().ranker == PureSVDParams()
    assert replace(SparkConfig(), partitions=2).ranker == PureSVDParams()


def test_sized_changes_only_the_sizes_given() -> None:
    """``--ranker-factors``, ``--als-rank``, ``--als-iterations``, ``--partitions``."""
    assert SparkConfig().sized() == SparkConfig()
    sized = SparkConfig().sized(ranker_factors=16, als_iterations=3)
    assert sized.ranker == replace(PureSVDParams(), factors=16)
    assert sized.als == replace(MLlibALSParams(), max_iter=3)
    assert sized.partitions == SparkConfig().partitions
    assert SparkConfig().sized(als_rank=5, partitions=2).als.rank == 5
    fixed = SparkConfig().sized(als_reg_param=0.3).als
    assert fixed == replace(MLlibALSParams(), reg_param=0.3, reg_param_alternatives=())
    assert fixed.reg_params == (0.3,)


def test_search_params_are_checked() -> None:
    with pytest.raises(ValueError, match="penalties above 0"):
        MLlibALSParams(reg_param_alternatives=(0.0,))
    with pytest.raises(ValueError, match="fold-in penalty candidates"):
        MLlibALSParams(fold_in_factor_regs=())
    with pytest.raises(ValueError, match="between 0 and 1"):
        MLlibALSParams(validation_fraction=1.0)


def test_partitions_without_users_add_nothing(spark: SparkSession) -> None:
    """More partitions than users leaves some empty: the SVD passes skip them (four
    partitions for three users: at least one empty, and few Python tasks per pass)."""
    from recommender.spark.puresvd import fit_puresvd

    ratings = synthetic_ratings(n_users=3, n_movies=8, per_user=5, seed=1)
    params = PureSVDParams(factors=2, beta=0.0, shift=2.0, shrinkage=0.0)
    frame = spark.createDataFrame(ratings[["user_id", "movie_id", "rating"]])
    indexed = index_ratings(frame, ratings["movie_id"].unique(), partitions=4)
    try:
        distributed = fit_puresvd(indexed, params, seed=SEED)
    finally:
        indexed.frame.unpersist()
    reference = PureSVD(params, seed=SEED).fit(TrainingData.from_frame(ratings))
    np.testing.assert_allclose(
        distributed.item_factors @ distributed.item_factors.T,
        reference.item_factors @ reference.item_factors.T,
        atol=1e-5,
    )


def test_a_partition_frame_is_its_nonempty_batches_in_order() -> None:
    empty = pd.DataFrame({"user_id": pd.Series([], dtype=np.int64)})
    assert partition_frame([]) is None
    assert partition_frame([empty, empty]) is None
    frame = partition_frame(
        [pd.DataFrame({"user_id": [3, 1]}), empty, pd.DataFrame({"user_id": [2]})]
    )
    assert frame is not None
    assert frame["user_id"].tolist() == [3, 1, 2]
    assert frame.index.tolist() == [0, 1, 2]
