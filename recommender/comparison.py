"""The model comparison behind ``movierec evaluate``: both tasks, every model, one seed.

Rating prediction uses the original's random 80/20 split and k-fold cross-validation; ranking
uses the temporal protocol of :mod:`recommender.evaluate`. The served models' hyper-parameters
are searched on validation splits carved from the training parts only, and the table says so.
Every stochastic step (splits, SVD initialisation, fold assignment) takes the seed.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from dataclasses import asdict, replace
from typing import Any

import numpy as np
import pandas as pd
from surprise import SVD, AlgoBase, BaselineOnly, KNNBasic

from recommender.dataset import Interactions, index_of
from recommender.evaluate import (
    ranking_metrics,
    rated_mask,
    relevant_items,
    rmse_mae,
    temporal_split,
    top_k_rows,
)
from recommender.models.popularity import popularity_scores
from recommender.models.puresvd import PureSVD, PureSVDParams
from recommender.models.rating import RatingModel, to_trainset
from recommender.serving import Recommender, UserRatings
from recommender.training import ServedConfig, fit_recommender

SERVED = "served: SVD tuned, users folded in"
RANKER_GRID = {"factors": (15, 20, 30, 50), "beta": (-0.2, -0.1, 0.0, 0.2), "shift": (0, 2, 2.5, 3)}
FOLD_IN_GRID = (5.0, 10.0, 20.0, 40.0)


def surprise_models(config: ServedConfig, *, quick: bool) -> dict[str, Callable[[int], AlgoBase]]:
    """The surprise models of the rating comparison, each built from a seed."""
    tuned = config.rating
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
            options = {"name": "cosine", "user_based": user_based}
            models[f"{name} (KNNBasic cosine)"] = lambda _seed, o=options: KNNBasic(
                sim_options=o, verbose=False
            )
    return models


def random_folds(n: int, folds: int, seed: int) -> list[np.ndarray]:
    """Row positions of each test fold, a seeded shuffle cut in ``folds`` parts."""
    return np.array_split(np.random.default_rng(seed).permutation(n), folds)


def holdout(n: int, seed: int) -> np.ndarray:
    """The original's split: a random 20 % of rows are test."""
    order = np.random.default_rng(seed).permutation(n)
    return order[int(0.8 * n) :]


def _split(frame: pd.DataFrame, test_rows: np.ndarray) -> tuple[pd.DataFrame, pd.DataFrame]:
    is_test = np.zeros(len(frame), dtype=bool)
    is_test[test_rows] = True
    return frame[~is_test], frame[is_test]


def served_predictions(
    recommender: Recommender, train: pd.DataFrame, test: pd.DataFrame
) -> np.ndarray:
    """The served model's predictions for test rows, users folded in from their train rows.

    Movies the model never saw get the global mean (the contract returns NaN for them).
    """
    history = {int(u): g for u, g in train.groupby("user_id")}
    predicted = np.empty(len(test))
    positions = np.arange(len(test))
    for user, rows in pd.Series(positions).groupby(test["user_id"].to_numpy()):
        own = history.get(int(user))
        ratings = UserRatings.empty() if own is None else UserRatings.from_frame(own)
        movies = test["movie_id"].to_numpy(np.int64)[rows.to_numpy()]
        predicted[rows.to_numpy()] = recommender.predict(ratings, movies)
    return np.where(np.isnan(predicted), recommender.rating.global_mean, predicted)


def rating_scores(
    frame: pd.DataFrame, split: np.ndarray, config: ServedConfig, seed: int, *, quick: bool
) -> dict[str, tuple[float, float, float]]:
    """(RMSE, MAE, fit seconds) of every rating model on one train/test split."""
    train, test = _split(frame, split)
    results: dict[str, tuple[float, float, float]] = {}
    pairs = list(zip(test["user_id"], test["movie_id"], test["rating"], strict=True))
    for name, build in surprise_models(config, quick=quick).items():
        started = time.perf_counter()
        algo = build(seed).fit(to_trainset(train, seed=seed))
        fitted = time.perf_counter() - started
        predicted = np.array([p.est for p in algo.test(pairs)])
        results[name] = (*rmse_mae(predicted, test["rating"]), fitted)
    started = time.perf_counter()
    recommender = fit_recommender(train, config, seed=seed)
    fitted = time.perf_counter() - started
    predicted = served_predictions(recommender, train, test)
    results[SERVED] = (*rmse_mae(predicted, test["rating"]), fitted)
    return results


def ranking_rows(
    train: pd.DataFrame, test: pd.DataFrame, config: ServedConfig, seed: int
) -> dict[str, dict[str, float]]:
    """Ranking metrics and fit time of each ranking model on one temporal split."""
    data = Interactions.from_frame(train)
    relevant = relevant_items(test)
    users = np.array(sorted(relevant), dtype=np.int64)
    rows, known = index_of(data.user_ids, users)
    users, rows = users[known], rows[known]
    exclude = rated_mask(data, users)

    def by_scores(scores: np.ndarray) -> dict[int, np.ndarray]:
        top = top_k_rows(np.broadcast_to(scores, exclude.shape), exclude)
        return {int(u): data.movie_ids[t] for u, t in zip(users, top, strict=True)}

    def original() -> dict[int, np.ndarray]:
        algo = SVD(random_state=seed).fit(to_trainset(train, seed=seed))
        model = RatingModel.from_surprise(algo, data.movie_ids, fold_in_reg=1.0)
        sides = [RatingModel.trained_user(algo, int(u)) for u in users]
        everything = np.arange(len(data.movie_ids))
        return by_scores(np.stack([model.predict(side, everything) for side in sides]))

    def plain_puresvd() -> dict[int, np.ndarray]:
        return by_scores(_puresvd_scores(data, rows, PureSVDParams(50, 0.0, 0.0), seed))

    def served() -> dict[int, np.ndarray]:
        recommender = fit_recommender(train, config, seed=seed)
        return {
            int(user): np.array([m for m, _ in recommender.top_n(UserRatings.from_frame(g))])
            for user, g in train[train["user_id"].isin(users)].groupby("user_id")
        }

    models: dict[str, Callable[[], dict[int, np.ndarray]]] = {
        "popularity (count)": lambda: by_scores(popularity_scores(data.matrix, "count")),
        "popularity (Bayesian mean)": lambda: by_scores(popularity_scores(data.matrix, "bayes")),
        "SVD top predicted (original)": original,
        "PureSVD k=50 (plain)": plain_puresvd,
        f"served: PureSVD {_describe(config.ranker)}": served,
    }
    table = {}
    for name, run in models.items():
        started = time.perf_counter()
        recommended = run()
        fitted = time.perf_counter() - started
        scores = ranking_metrics(recommended, relevant, len(data.movie_ids))
        table[name] = {**asdict(scores), "seconds": fitted}
    return table


def _puresvd_scores(
    data: Interactions, rows: np.ndarray, params: PureSVDParams, seed: int
) -> np.ndarray:
    """Batch PureSVD scores for many users at once (the validation search's fast path)."""
    model = PureSVD.fit(data.matrix, params, seed=seed)
    shifted = data.matrix[rows].astype(np.float32)
    shifted.data -= params.shift
    return np.asarray(shifted.multiply(model.column_weights).tocsr() @ model.item_factors) @ (
        model.item_factors.T
    )


def _describe(params: PureSVDParams) -> str:
    return f"k={params.factors} beta={params.beta:g} shift={params.shift:g}"


def search_ranker(train: pd.DataFrame, seed: int, *, quick: bool) -> list[dict[str, Any]]:
    """NDCG@10 of every PureSVD variant on the temporal validation split of ``train``."""
    fit_part, valid_part = temporal_split(train)
    data = Interactions.from_frame(fit_part)
    relevant = relevant_items(valid_part)
    users = np.array(sorted(relevant), dtype=np.int64)
    rows, known = index_of(data.user_ids, users)
    users, rows = users[known], rows[known]
    exclude = rated_mask(data, users)
    grid = itertools.product(*RANKER_GRID.values())
    results = []
    for factors, beta, shift in itertools.islice(grid, 2 if quick else None):
        params = PureSVDParams(factors, beta, float(shift))
        top = top_k_rows(_puresvd_scores(data, rows, params, seed), exclude)
        recommended = {int(u): data.movie_ids[t] for u, t in zip(users, top, strict=True)}
        ndcg = ranking_metrics(recommended, relevant, len(data.movie_ids)).ndcg
        results.append({**asdict(params), "validation_ndcg": ndcg})
    return sorted(results, key=lambda r: -r["validation_ndcg"])


def search_fold_in(
    train: pd.DataFrame, config: ServedConfig, seed: int, *, quick: bool
) -> list[dict[str, Any]]:
    """Validation RMSE of each fold-in penalty, on a random 20 % carved from ``train``."""
    fit_part, valid_part = _split(train, holdout(len(train), seed))
    recommender = fit_recommender(fit_part, config, seed=seed)
    results = []
    for reg in FOLD_IN_GRID[:2] if quick else FOLD_IN_GRID:
        recommender.rating = replace(recommender.rating, fold_in_reg=reg)
        rmse, _ = rmse_mae(
            served_predictions(recommender, fit_part, valid_part), valid_part["rating"]
        )
        results.append({"fold_in_reg": reg, "validation_rmse": rmse})
    return sorted(results, key=lambda r: r["validation_rmse"])


def run_comparison(frame: pd.DataFrame, *, seed: int, quick: bool) -> dict[str, Any]:
    """Everything ``movierec evaluate`` reports, as JSON-ready data."""
    frame = frame.reset_index(drop=True)
    config = ServedConfig()
    rating_train, _ = _split(frame, holdout(len(frame), seed))
    ranking_train, ranking_test = temporal_split(frame)
    ranker_search = search_ranker(ranking_train, seed, quick=quick)
    fold_in_search = search_fold_in(rating_train, config, seed, quick=quick)
    best_ranker = {k: ranker_search[0][k] for k in ("factors", "beta", "shift")}
    chosen = ServedConfig(
        ranker=PureSVDParams(**best_ranker),
        rating=replace(config.rating, fold_in_reg=fold_in_search[0]["fold_in_reg"]),
        popularity=config.popularity,
    )
    folds = 2 if quick else 5
    cv = [
        rating_scores(frame, rows, chosen, seed, quick=quick)
        for rows in random_folds(len(frame), folds, seed)
    ]
    return {
        "seed": seed,
        "quick": quick,
        "data": {
            "ratings": len(frame),
            "users": int(frame["user_id"].nunique()),
            "movies": int(frame["movie_id"].nunique()),
        },
        "validation": {
            "ranker_top5": ranker_search[:5],
            "fold_in": fold_in_search,
            "chosen": {"ranker": best_ranker, "fold_in_reg": chosen.rating.fold_in_reg},
            "served_defaults_match": chosen == config,
        },
        "rating": {
            "holdout_80_20": {
                name: dict(zip(("rmse", "mae", "seconds"), v, strict=True))
                for name, v in rating_scores(
                    frame, holdout(len(frame), seed), chosen, seed, quick=quick
                ).items()
            },
            f"cv_{folds}_fold": {
                name: {
                    f"{metric}_{stat}": float(fn([fold[name][i] for fold in cv]))
                    for i, metric in enumerate(("rmse", "mae", "seconds"))
                    for stat, fn in (("mean", np.mean), ("std", np.std))
                }
                for name in cv[0]
            },
        },
        "ranking": ranking_rows(ranking_train, ranking_test, chosen, seed),
    }
