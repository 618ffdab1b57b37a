"""The model comparison behind ``movierec evaluate``: both tasks, every model, one seed.

Rating prediction uses the original's random 80/20 split and k-fold cross-validation; ranking
uses the temporal protocol of :mod:`recommender.evaluate`, and rating prediction is also scored
on that time-based split (each user's latest 20 %). The served models' hyper-parameters are
searched on validation splits carved from the training parts only, and the output records the
search: the ranker's and the cold-start popularity's here, on the temporal validation split of
the ranking train part; the rating predictor's fold-in penalties, neighbour count and blend
weights inside every fit (:mod:`recommender.models.temporal_blend`). Every
stochastic step (splits, SVD initialisation, fold assignment, validation carves) takes the seed;
the 80/20 split and the folds draw from independent streams spawned from it, so the 80/20 test
part is not one of the folds.

The served models are compared with the previously served ones (``PREVIOUS``) user by user,
on the ranking split and on the 80/20, time-based and k-fold rating splits (the folds together:
each rating is tested once), with 95 % intervals.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from typing import Any, TypeVar, get_args

import numpy as np
import pandas as pd
from surprise import SVD, AlgoBase, BaselineOnly, KNNBasic

from recommender.dataset import (
    TrainingData,
    index_of,
    per_user,
    per_user_timed,
    random_holdout,
    split_rows,
)
from recommender.evaluate import (
    K,
    RankingTask,
    SimilarMethod,
    SimilarTask,
    latest_rows,
    paired_difference,
    per_user_ranking,
    per_user_squared_error,
    rmse_mae,
    temporal_split,
    top_k_rows,
)
from recommender.models.als import ALSRating
from recommender.models.contract import RatingPredictor, clip_to_scale, days_of
from recommender.models.neighbours import ItemNeighbours
from recommender.models.popularity import PopularityMethod, popularity_scores
from recommender.models.puresvd import PureSVD, PureSVDParams, Spectrum
from recommender.models.rating import RatingModel, SVDParams, UserSide, to_trainset
from recommender.models.temporal_blend import COMPONENTS, TemporalBlend
from recommender.serving import Recommender, UserRatings
from recommender.training import ServedConfig, SVDBlendConfig, fit_recommender

SERVED = "served: time-aware blend of the components below"
SERVED_COMPONENTS = (
    "served component: time-aware factors (drift, day and bin biases), users folded in",
    "served component: item KNNBaseline, top-500 sparse neighbours",
)
PREVIOUS_RATING = "served before: SVD tuned + item KNNBaseline blend"
SCALE_ROW = "served above the size threshold: ALS biased, users folded in (ridge)"
CAPPED_ROW = (
    "served blend, its neighbour term refitted from at most {cap} ratings per user "
    "(the cap served above the size threshold; weights kept)"
)
# Factorised once per (factors, beta, shift); every shrinkage is tried on that spectrum. Factors
# stop at 200, for serving cost: 300 scored about the same on validation (0.1456 against 0.1444
# on ml-latest-small) and costs half again per request.
RANKER_GRID = {
    "factors": (50, 100, 200),
    "beta": (0.0, 0.1),
    "shift": (2.0, 2.5, 3.0),
    "shrinkage": (0.0, 300.0, 1000.0, 3000.0),
}
# The models served before, for the paired comparison: the ranker before the shrunk PureSVD, the
# rating blend before the time effects (surprise SVD folded in + top-100 item neighbours).
PREVIOUS = ServedConfig(
    ranker=PureSVDParams(factors=20, beta=-0.1, shift=2.5, shrinkage=0.0),
    rating=SVDBlendConfig(),
)
PREVIOUS_RANKER = "PureSVD k=20 beta=-0.1 shift=2.5 (served before)"


def surprise_models(*, quick: bool) -> dict[str, Callable[[int], AlgoBase]]:
    """The surprise models of the rating comparison, each built from a seed."""
    tuned = SVDParams()
    models: dict[str, Callable[[int], AlgoBase]] = {
        "SVD (original, default)": lambda seed: SVD(random_state=seed),
        "SVD tuned": lambda seed: SVD(
            n_factors=tuned.n_factors,
            n_epochs=tuned.n_epochs,
            lr_all=tuned.lr_all,
            reg_all=tuned.reg_all,
            random_state=seed,
        ),
        "BaselineOnly": lambda _seed: BaselineOnly(verbose=False),
    }
    if not quick:
        for name, user_based in (("UBCF", True), ("IBCF", False)):
            models[f"{name} (KNNBasic cosine)"] = _knn_cosine(user_based)
    return models


def _knn_cosine(user_based: bool) -> Callable[[int], AlgoBase]:
    """KNNBasic by cosine similarity; it is not randomised, so the seed goes unused."""
    options = {"name": "cosine", "user_based": user_based}
    return lambda _seed: KNNBasic(sim_options=options, verbose=False)


def served_parts(recommender: Recommender) -> tuple[PureSVD, TemporalBlend]:
    """The served ranker and rating blend, whose components the comparison reports."""
    ranker, rating = recommender.ranker, recommender.rating
    if not isinstance(ranker, PureSVD) or not isinstance(rating, TemporalBlend):
        raise TypeError(
            f"the comparison reports PureSVD and the blend, not {type(ranker).__name__} and "
            f"{type(rating).__name__}"
        )
    return ranker, rating


def _streams(seed: int) -> list[np.random.SeedSequence]:
    """Independent random streams for the 80/20 split and the folds, from one seed."""
    return np.random.SeedSequence(seed).spawn(2)


def random_folds(n: int, folds: int, seed: int) -> list[np.ndarray]:
    """Row positions of each test fold, a seeded shuffle cut in ``folds`` parts."""
    return np.array_split(np.random.default_rng(_streams(seed)[1]).permutation(n), folds)


def holdout(n: int, seed: int) -> np.ndarray:
    """The original's split: a random 20 % of rows are test, drawn independently of the folds
    (sharing a permutation made the 80/20 test part equal to the last fold)."""
    return random_holdout(n, 0.2, _streams(seed)[0])


def served_predictions(
    recommender: Recommender, train: pd.DataFrame, test: pd.DataFrame
) -> dict[str, np.ndarray]:
    """The served predictions for test rows, each user folded in from their train rows.

    ``SERVED`` goes through ``Recommender.predict``, the exact serving path, as of each test
    rating's time (the server predicts as of the request); the component columns are the same
    fitted model's parts, clipped to the scale. Movies outside the model's index get the global
    mean (the contract returns NaN for them).
    """
    names = (SERVED, *SERVED_COMPONENTS)
    predicted = {name: np.empty(len(test)) for name in names}
    _, rating = served_parts(recommender)
    for user in per_user_timed(train, test):
        rows, wanted = user.rows, user.wanted
        history = UserRatings(user.movies, user.ratings, user.times)
        predicted[SERVED][rows] = recommender.predict(history, wanted, at=user.wanted_times)
        items, known = index_of(recommender.movie_ids, user.movies)
        targets, present = index_of(recommender.movie_ids, wanted)
        parts = np.full((len(rows), len(COMPONENTS)), np.nan)
        parts[present] = rating.components_at(
            items[known],
            user.ratings[known],
            days_of(user.times[known]),
            targets[present],
            days_of(user.wanted_times[present]),
        )
        for column, name in enumerate(SERVED_COMPONENTS):
            predicted[name][rows] = clip_to_scale(parts[:, column])
    return {
        name: np.where(np.isnan(values), rating.global_mean, values)
        for name, values in predicted.items()
    }


@dataclass(frozen=True)
class SplitScores:
    """One rating split's (RMSE, MAE, fit seconds) per model (component rows have no fit time
    of their own), what the served fit's validation carve chose, and, for the paired
    comparison, each test rating's user, value, and prediction by the served and the
    previously served model."""

    scores: dict[str, tuple[float, float, float | None]]
    validation: dict[str, Any]
    users: np.ndarray
    actual: np.ndarray
    served: np.ndarray
    previous: np.ndarray

    def paired(self) -> dict[str, float]:
        return paired_user_mse([self])


def paired_user_mse(splits: list[SplitScores]) -> dict[str, float]:
    """Served against previous by per-user mean squared error over the test ratings of
    ``splits`` (the folds together: each rating is tested once)."""
    users, actual, served, previous = (
        np.concatenate([getattr(split, name) for split in splits])
        for name in ("users", "actual", "served", "previous")
    )
    return paired_difference(
        per_user_squared_error(users, served, actual),
        per_user_squared_error(users, previous, actual),
    )


def rating_scores(
    frame: pd.DataFrame,
    split: np.ndarray,
    config: ServedConfig,
    seed: int,
    *,
    quick: bool,
    catalog_movie_ids: np.ndarray,
) -> SplitScores:
    """Every rating model fitted on ``frame`` without the rows ``split`` and scored on them."""
    train, test = split_rows(frame, split)
    results: dict[str, tuple[float, float, float | None]] = {}
    pairs = list(zip(test["user_id"], test["movie_id"], test["rating"], strict=True))
    for name, build in surprise_models(quick=quick).items():
        started = time.perf_counter()
        algo = build(seed).fit(to_trainset(train, seed=seed))
        fitted = time.perf_counter() - started
        predicted = np.array([p.est for p in algo.test(pairs)])
        results[name] = (*rmse_mae(predicted, test["rating"]), fitted)
    started = time.perf_counter()
    recommender = fit_recommender(train, config, seed=seed, catalog_movie_ids=catalog_movie_ids)
    fitted = time.perf_counter() - started
    predictions = served_predictions(recommender, train, test)
    for name, predicted in predictions.items():
        results[name] = (*rmse_mae(predicted, test["rating"]), fitted if name == SERVED else None)
    results[SCALE_ROW] = scale_rating_scores(train, test, config, seed, catalog_movie_ids)
    started = time.perf_counter()
    capped = capped_neighbours(recommender, train, config.scale_neighbour_cap, seed)
    fitted = time.perf_counter() - started
    predicted = served_predictions(capped, train, test)[SERVED]
    results[CAPPED_ROW.format(cap=config.scale_neighbour_cap)] = (
        *rmse_mae(predicted, test["rating"]),
        fitted,
    )
    previous, results[PREVIOUS_RATING] = previous_rating(train, test, seed, catalog_movie_ids)
    return SplitScores(
        results,
        served_parts(recommender)[1].validation,
        test["user_id"].to_numpy(),
        test["rating"].to_numpy(np.float64),
        predictions[SERVED],
        previous,
    )


def capped_neighbours(
    recommender: Recommender, train: pd.DataFrame, cap: int, seed: int
) -> Recommender:
    """The served model with its blend's neighbour term refitted on ``train`` from at most
    ``cap`` ratings per user (as served above the size threshold), SVD and weights kept: what
    the cap costs the blend. Refitting only the neighbours keeps the row cheap; choosing the
    weights again could only narrow the difference."""
    _, rating = served_parts(recommender)
    data = TrainingData.from_frame(train, recommender.movie_ids)
    params = replace(rating.neighbours.params, max_user_ratings=cap)
    neighbours = ItemNeighbours(params, seed=seed).fit(data)
    return Recommender(
        movie_ids=recommender.movie_ids,
        ranker=recommender.ranker,
        rating=replace(rating, neighbours=neighbours),
        cold_start=recommender.cold_start,
        algorithm=recommender.algorithm,
    )


def previous_rating(
    train: pd.DataFrame, test: pd.DataFrame, seed: int, catalog_movie_ids: np.ndarray
) -> tuple[np.ndarray, tuple[float, float, float]]:
    """The previously served rating model's predictions of the test rows (through
    ``Recommender.predict``, as the served model's; the global mean for movies outside its
    index) and its (RMSE, MAE, fit seconds)."""
    started = time.perf_counter()
    model = fit_recommender(train, PREVIOUS, seed=seed, catalog_movie_ids=catalog_movie_ids)
    fitted = time.perf_counter() - started
    predicted = np.empty(len(test))
    fallback = float(train["rating"].mean())
    for rows, movies, ratings, wanted in per_user(train, test):
        values = model.predict(UserRatings(movies, ratings), wanted)
        predicted[rows] = np.where(np.isnan(values), fallback, values)
    return predicted, (*rmse_mae(predicted, test["rating"]), fitted)


def scale_rating_scores(
    train: pd.DataFrame,
    test: pd.DataFrame,
    config: ServedConfig,
    seed: int,
    catalog_movie_ids: np.ndarray,
) -> tuple[float, float, float]:
    """(RMSE, MAE, fit seconds) of the rating model served above ``config.scale_threshold``,
    fitted here whatever the data's size, so small data shows what the switch costs."""
    return rating_model_scores(ALSRating(config.als, seed=seed), train, test, catalog_movie_ids)


M = TypeVar("M", bound=RatingPredictor)


def rating_model_scores(
    model: RatingPredictor, train: pd.DataFrame, test: pd.DataFrame, catalog_movie_ids: np.ndarray
) -> tuple[float, float, float]:
    """(RMSE, MAE, fit seconds) of ``model`` fitted on ``train`` over the catalog's index, each
    test user folded in from their train rows; movies outside the index get the global mean."""
    return fit_and_score(model, train, test, catalog_movie_ids)[1]


def fit_and_score(
    model: M, train: pd.DataFrame, test: pd.DataFrame, catalog_movie_ids: np.ndarray
) -> tuple[M, tuple[float, float, float]]:
    """:func:`rating_model_scores` with the fitted model, for a caller that reports what its
    fit chose."""
    started = time.perf_counter()
    data = TrainingData.from_frame(train, np.union1d(catalog_movie_ids, train["movie_id"]))
    fitted = model.fit(data)
    seconds = time.perf_counter() - started
    predicted = np.full(len(test), float(train["rating"].mean()))
    for rows, movies, ratings, wanted in per_user(train, test):
        items, known = index_of(data.movie_ids, movies)
        targets, present = index_of(data.movie_ids, wanted)
        predicted[rows[present]] = fitted.predict(items[known], ratings[known], targets[present])
    return fitted, (*rmse_mae(predicted, test["rating"]), seconds)


def ranking_rows(
    task: RankingTask,
    train: pd.DataFrame,
    served: Recommender,
    served_fit_seconds: float,
    config: ServedConfig,
    seed: int,
) -> tuple[dict[str, dict[str, Any]], dict[str, float]]:
    """Ranking metrics, exposure, activity buckets and fit time of each ranking model on one
    temporal split (``served`` is the served model fitted on its train part, and its row counts
    that fit's time too), and the served model's per-user NDCG against the previous ranker's."""
    data, users = task.train, task.users

    def original() -> dict[int, np.ndarray]:
        algo = SVD(random_state=seed).fit(to_trainset(train, seed=seed))
        # Trained users only, so the fold-in penalties are never used.
        model = RatingModel.from_surprise(algo, data.movie_ids, bias_reg=0.0, factor_reg=0.0)
        everything = np.arange(len(data.movie_ids))
        estimates = np.stack([model.estimate(_trained(algo, int(u)), everything) for u in users])
        return task.top_k(clip_to_scale(estimates))

    def puresvd(params: PureSVDParams) -> Callable[[], dict[int, np.ndarray]]:
        return lambda: task.top_k(_puresvd_scores(data, task.rows, params, seed))

    def served_top() -> dict[int, np.ndarray]:
        seen = train[train["user_id"].isin(users)]
        by_user: pd.Series[int] = seen["user_id"]
        return {
            int(user): np.array([m for m, _ in served.top_n(UserRatings.from_frame(g))])
            for user, g in seen.groupby(by_user)
        }

    served_name = f"served: PureSVD {_describe(config.ranker)}"
    models: dict[str, tuple[Callable[[], dict[int, np.ndarray]], float]] = {
        "popularity (count)": (lambda: task.top_k(popularity_scores(data.matrix, "count")), 0.0),
        "popularity (Bayesian mean)": (
            lambda: task.top_k(popularity_scores(data.matrix, "bayes")),
            0.0,
        ),
        "SVD top predicted (original)": (original, 0.0),
        "PureSVD k=50 (plain)": (puresvd(PureSVDParams(50, 0.0, 0.0)), 0.0),
        PREVIOUS_RANKER: (puresvd(PREVIOUS.ranker), 0.0),
        served_name: (served_top, served_fit_seconds),
    }
    table, lists = {}, {}
    for name, (run, fitted) in models.items():
        started = time.perf_counter()
        lists[name] = run()
        seconds = fitted + time.perf_counter() - started
        table[name] = {**task.report(lists[name]), "seconds": seconds}
    ndcg = {
        name: per_user_ranking(lists[name], task.relevant)["ndcg"]
        for name in (served_name, PREVIOUS_RANKER)
    }
    return table, paired_difference(ndcg[served_name], ndcg[PREVIOUS_RANKER])


SERVED_SIMILAR = "served: neighbour list, then PureSVD cosine"
SCALE_SIMILAR = (
    "served above the size threshold: neighbour list from at most {cap} ratings per user, "
    "then PureSVD cosine"
)


def similar_rows(
    task: SimilarTask, served: Recommender, at_scale: Recommender, cap: int
) -> dict[str, dict[str, float]]:
    """Item-to-item metrics of each similar-movies method, every one fitted on the ranking
    split's train part (``served`` is the served model fitted there, ``at_scale`` the model
    served above the size threshold, whose lists read at most ``cap`` ratings per user).

    The served rows go through ``Recommender.similar`` itself, asked for enough movies that k
    remain once the user's training movies are skipped.
    """
    data = task.ranking.train
    ranker, rating = served_parts(served)
    columns = index_of(served.movie_ids, data.movie_ids)[0]
    binary = data.matrix.tocsc(copy=True)
    binary.data[:] = 1.0
    counts = np.diff(binary.indptr).astype(np.float64)
    neighbours = rating.neighbours
    # The neighbour lists in this split's movie positions; padding becomes len(data.movie_ids).
    positions, present = index_of(data.movie_ids, served.movie_ids)
    padded = np.append(np.where(present, positions, len(data.movie_ids)), len(data.movie_ids))
    neighbour_index = padded[neighbours.neighbour_index[columns]]

    def cosine(factors: np.ndarray) -> Callable[[int], np.ndarray]:
        unit = factors[columns] / np.maximum(
            np.linalg.norm(factors[columns], axis=1, keepdims=True), 1e-12
        )
        return lambda seed: unit @ unit[seed]

    def neighbour_list(seed: int) -> np.ndarray:
        scores = np.full(len(data.movie_ids) + 1, -np.inf)
        scores[neighbour_index[seed]] = neighbours.neighbour_sim[columns[seed]]
        return scores[:-1]

    def similar_of(recommender: Recommender) -> SimilarMethod:
        def method(seed: int, skip: np.ndarray) -> np.ndarray:
            listed = np.array(recommender.similar(seed, K + len(skip)), dtype=np.int64)
            return listed[~np.isin(listed, skip)]

        return method

    methods: dict[str, SimilarMethod] = {
        "PureSVD item-factor cosine (served before)": _by_scores(
            data.movie_ids, cosine(ranker.item_factors)
        ),
        "time-aware rating-model item-factor cosine": _by_scores(
            data.movie_ids, cosine(rating.temporal.item_factors)
        ),
        "neighbour list alone (top-500 shrunk pearson_baseline)": _by_scores(
            data.movie_ids, neighbour_list
        ),
        SERVED_SIMILAR: similar_of(served),
        SCALE_SIMILAR.format(cap=cap): similar_of(at_scale),
        "most co-rated (users who rated both)": _by_scores(
            data.movie_ids, lambda seed: (binary.T @ binary[:, [seed]]).toarray().ravel()
        ),
        "popularity (count), seed ignored": _by_scores(data.movie_ids, lambda _seed: counts),
    }
    return {name: task.metrics(task.recommend(method)) for name, method in methods.items()}


def _trained(algo: AlgoBase, user_id: int) -> UserSide:
    """The user side surprise learned for a user of its training split."""
    side = RatingModel.trained_user(algo, user_id)
    if side is None:
        raise LookupError(f"user {user_id} is not in the split the model was trained on")
    return side


def _by_scores(movie_ids: np.ndarray, scores: Callable[[int], np.ndarray]) -> SimilarMethod:
    """A similar-movies method from a score vector over ``movie_ids`` (the seed's position in)."""

    def method(seed: int, skip: np.ndarray) -> np.ndarray:
        values = np.asarray(scores(int(index_of(movie_ids, np.array([seed]))[0][0])), dtype=float)
        excluded = np.isin(movie_ids, skip)
        top = top_k_rows(values[np.newaxis], excluded[np.newaxis])[0]
        similar: np.ndarray = movie_ids[top[np.isfinite(values[top]) & ~excluded[top]]]
        return similar

    return method


def _puresvd_scores(
    data: TrainingData, rows: np.ndarray, params: PureSVDParams, seed: int
) -> np.ndarray:
    """Batch PureSVD scores for many users at once."""
    return batch_scores(data, rows, PureSVD(params, seed=seed).fit(data))


def batch_scores(data: TrainingData, rows: np.ndarray, model: PureSVD) -> np.ndarray:
    """``model``'s scores for the users ``rows`` of ``data``: the serving formula, one product
    for all users (the validation search's fast path)."""
    shifted = data.matrix[rows].astype(np.float32)
    shifted.data -= model.params.shift
    user_factors = np.asarray(shifted.multiply(model.column_weights).tocsr() @ model.item_factors)
    scores: np.ndarray = user_factors @ model.item_factors.T
    return scores


def _describe(params: PureSVDParams) -> str:
    return (
        f"k={params.factors} beta={params.beta:g} shift={params.shift:g} "
        f"lambda={params.shrinkage:g}"
    )


def search_ranker(train: pd.DataFrame, seed: int, *, quick: bool) -> dict[str, Any]:
    """The served ranker's and cold-start list's hyper-parameters, chosen by NDCG@10 on the
    temporal validation split of ``train`` (the ranking train part): every PureSVD variant of
    ``RANKER_GRID`` (each spectrum computed once, every shrinkage tried on it) and both
    popularity methods. Returns the chosen values and every trial."""
    task = RankingTask.from_split(*temporal_split(train))
    spectra = itertools.product(RANKER_GRID["factors"], RANKER_GRID["beta"], RANKER_GRID["shift"])
    trials = []
    for factors, beta, shift in itertools.islice(spectra, 2 if quick else None):
        base = PureSVDParams(int(factors), float(beta), float(shift))
        spectrum = Spectrum.of(task.train.matrix, base, seed=seed)
        for shrinkage in RANKER_GRID["shrinkage"]:
            params = replace(base, shrinkage=float(shrinkage))
            top = task.top_k(
                batch_scores(task.train, task.rows, spectrum.shrunk(params, seed=seed))
            )
            trials.append({**asdict(params), "validation_ndcg": task.metrics(top).ndcg})
    trials.sort(key=lambda r: -r["validation_ndcg"])
    popularity = {
        method: task.metrics(task.top_k(popularity_scores(task.train.matrix, method))).ndcg
        for method in get_args(PopularityMethod)
    }
    return {
        "ranker": {key: trials[0][key] for key in asdict(PureSVDParams())},
        "popularity": max(popularity, key=lambda method: popularity[method]),
        "ranker_trials": trials,
        "popularity_validation_ndcg": popularity,
    }


def run_comparison(
    frame: pd.DataFrame, *, seed: int, quick: bool, catalog_movie_ids: np.ndarray | None = None
) -> dict[str, Any]:
    """Everything ``movierec evaluate`` reports, as JSON-ready data.

    ``catalog_movie_ids`` is the store's catalog (default: the rated movies): every fit indexes
    it, so a test movie without training ratings gets the user's baseline, as in serving.
    """
    frame = frame.reset_index(drop=True)
    catalog = np.unique(
        frame["movie_id"].to_numpy(np.int64)
        if catalog_movie_ids is None
        else np.concatenate([frame["movie_id"].to_numpy(np.int64), catalog_movie_ids])
    )
    config = ServedConfig()
    ranking_train, ranking_test = temporal_split(frame)
    search = search_ranker(ranking_train, seed, quick=quick)
    chosen = replace(
        config, ranker=PureSVDParams(**search["ranker"]), popularity=search["popularity"]
    )
    folds = 2 if quick else 5
    splits = {
        "holdout_80_20": holdout(len(frame), seed),
        "time_based": latest_rows(frame),
        **{f"fold_{i + 1}": rows for i, rows in enumerate(random_folds(len(frame), folds, seed))},
    }
    scored = {
        name: rating_scores(frame, rows, chosen, seed, quick=quick, catalog_movie_ids=catalog)
        for name, rows in splits.items()
    }
    cv = [scored[name].scores for name in splits if name.startswith("fold_")]
    rating_pairs = {
        "holdout_80_20": scored["holdout_80_20"].paired(),
        "time_based": scored["time_based"].paired(),
        f"cv_{folds}_fold": paired_user_mse(
            [scored[name] for name in splits if name.startswith("fold_")]
        ),
    }
    ranking = RankingTask.from_split(ranking_train, ranking_test)
    started = time.perf_counter()
    served = fit_recommender(ranking_train, chosen, seed=seed, catalog_movie_ids=catalog)
    served_fit = time.perf_counter() - started
    ranking_table, ranking_pair = ranking_rows(
        ranking, ranking_train, served, served_fit, chosen, seed
    )
    return {
        "seed": seed,
        "quick": quick,
        "data": {
            "ratings": len(frame),
            "users": int(frame["user_id"].nunique()),
            "movies": int(frame["movie_id"].nunique()),
        },
        "validation": {
            "ranker_top5": search["ranker_trials"][:5],
            "ranker_search": search,
            "chosen": {"ranker": search["ranker"], "popularity": search["popularity"]},
            "served_defaults_match": chosen == config,
            "rating_blend_holdout_80_20": scored["holdout_80_20"].validation,
            "rating_blend_time_based": scored["time_based"].validation,
            "rating_blend_cv_chosen": [
                scored[name].validation.get("chosen") for name in splits if name.startswith("fold_")
            ],
        },
        "rating": {
            split: {
                name: dict(zip(("rmse", "mae", "seconds"), v, strict=True))
                for name, v in scored[split].scores.items()
            }
            for split in ("holdout_80_20", "time_based")
        }
        | {f"cv_{folds}_fold": {name: summary([fold[name] for fold in cv]) for name in cv[0]}},
        "ranking": ranking_table,
        "paired": {
            "ranking_ndcg_temporal": ranking_pair,
            **{f"rating_user_mse_{name}": pair for name, pair in rating_pairs.items()},
        },
        "similar": similar_rows(
            SimilarTask.from_ranking(ranking, ranking_train),
            served,
            fit_recommender(
                ranking_train,
                replace(chosen, scale_threshold=0),
                seed=seed,
                catalog_movie_ids=catalog,
            ),
            chosen.scale_neighbour_cap,
        ),
    }


def summary(scores: list[tuple[float, float, float | None]]) -> dict[str, float | None]:
    """Mean and standard deviation over folds of RMSE, MAE and fit seconds (None: no own fit)."""
    summary: dict[str, float | None] = {}
    for i, metric in enumerate(("rmse", "mae", "seconds")):
        values = [value for fold in scores if (value := fold[i]) is not None]
        present = len(values) == len(scores)
        summary[f"{metric}_mean"] = float(np.mean(values)) if present else None
        summary[f"{metric}_std"] = float(np.std(values)) if present else None
    return summary
