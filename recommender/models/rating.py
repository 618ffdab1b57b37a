"""Rating prediction: scikit-surprise's biased SVD, trained by surprise, served by NumPy.

Surprise fits the model; its arrays (global mean, biases, factors) are then exported and aligned
to our movie index, so serving needs no surprise object and no pickle. At serving time a user is
folded in from their current ratings with the item side fixed: a ridge regression for the user
bias and factors. Surprise's SGD penalises bias and factors alike, but the fold-in penalties are
two separate numbers, chosen on a validation split (see :mod:`recommender.models.blended`):
measured, a light bias penalty and a heavier factor penalty fit held-out ratings best.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from scipy import sparse
from surprise import SVD, AlgoBase, Dataset, Reader, Trainset

from data.domain import RATING_SCALE
from recommender.dataset import TrainingData, index_of
from recommender.models.contract import (
    Stored,
    StoredArrays,
    clip_to_scale,
    meta_int,
    meta_number,
    meta_params,
)
from recommender.models.ridge import solve_rows

# Stored ratings predicted per step of ``BiasedFactors.predict_stored``: the gathered item factors
# of a step take this many times 8 bytes per factor.
PREDICT_BLOCK = 1 << 18
# The fold-in penalties (bias, factors) that won on ml-latest-small: used unless a validation
# carve chooses others (see recommender.models.blended).
FOLD_IN_REGS = (3.0, 40.0)


@dataclass(frozen=True)
class SVDParams:
    """Surprise SVD hyper-parameters (tuned: 0.854 5-fold RMSE in surprise, default 0.873)."""

    n_factors: int = 100
    n_epochs: int = 40
    lr_all: float = 0.007
    reg_all: float = 0.06


def to_trainset(frame: pd.DataFrame, *, seed: int) -> Trainset:
    """Surprise's training set over every rating of the frame (raw ids are our int ids).

    Rows are shuffled with the seed first: surprise's SGD visits ratings in trainset order, and
    the store's user-then-time order costs about 0.005 RMSE (measured: 0.8575 sorted, 0.8525
    shuffled, tuned SVD on one 80/20 split).
    """
    reader = Reader(rating_scale=RATING_SCALE.bounds)
    columns = frame[["user_id", "movie_id", "rating"]].sample(frac=1.0, random_state=seed)
    return Dataset.load_from_df(columns, reader).build_full_trainset()


def fit_svd(frame: pd.DataFrame, params: SVDParams, *, seed: int) -> SVD:
    algo = SVD(
        n_factors=params.n_factors,
        n_epochs=params.n_epochs,
        lr_all=params.lr_all,
        reg_all=params.reg_all,
        random_state=seed,
    )
    return algo.fit(to_trainset(frame, seed=seed))


@dataclass(frozen=True)
class UserSide:
    """A user's bias and factors: trained by surprise, or folded in at serving time."""

    bias: float
    factors: np.ndarray


class BiasedFactors:
    """Serving of a biased matrix-factorisation item side, whoever trained it.

    The dataclasses that mix this in declare the fields below (a mixin, so each keeps its own
    field order): the global mean, item biases and factors on our movie index, ``known`` marking
    trained movies, and the fold-in penalties ``bias_reg`` and ``factor_reg``. Movies of the index
    the model never saw keep zero bias and factors, so their estimate is the user's baseline
    (global mean plus user bias), as surprise's own ``predict`` gives.
    """

    bias_reg: float
    factor_reg: float
    global_mean: float
    item_bias: np.ndarray
    item_factors: np.ndarray
    known: np.ndarray

    @property
    def n_movies(self) -> int:
        return len(self.item_bias)

    def fold_in(self, items: np.ndarray, ratings: np.ndarray) -> UserSide:
        """Ridge fit of the user's bias and factors to their ratings, item side fixed."""
        penalties = np.array([[self.bias_reg, self.factor_reg]])
        return self.fold_in_under(items, ratings, penalties)[0]

    def fold_in_under(
        self, items: np.ndarray, ratings: np.ndarray, penalties: np.ndarray
    ) -> list[UserSide]:
        """The fold-in under each (bias, factor) penalty row: one design, a stack of solves.

        The validation search tries many penalty pairs per user; serving uses one.
        """
        keep = self.known[items]
        items, ratings = items[keep], ratings[keep]
        n_factors = self.item_factors.shape[1]
        if len(items) == 0:
            return [UserSide(0.0, np.zeros(n_factors))] * len(penalties)
        design = np.empty((len(items), n_factors + 1))
        design[:, 0] = 1.0
        design[:, 1:] = self.item_factors[items]
        target = ratings.astype(np.float64) - self.global_mean - self.item_bias[items]
        grams = np.repeat((design.T @ design)[np.newaxis], len(penalties), axis=0)
        grams[:, 0, 0] += penalties[:, 0]
        diagonal = np.arange(1, n_factors + 1)
        grams[:, diagonal, diagonal] += penalties[:, 1:2]
        right = np.broadcast_to(design.T @ target, (len(penalties), n_factors + 1))
        solutions = np.linalg.solve(grams, right[..., np.newaxis])[..., 0]
        return [UserSide(float(solution[0]), solution[1:]) for solution in solutions]

    def estimate(self, user: UserSide, items: np.ndarray) -> np.ndarray:
        """Unclipped estimates ``mu + b_u + b_i + q_i . p_u`` for movie indices."""
        baseline = self.global_mean + user.bias + self.item_bias[items]
        estimates: np.ndarray = baseline + self.item_factors[items] @ user.factors
        return estimates

    def predict(self, items: np.ndarray, ratings: np.ndarray, targets: np.ndarray) -> np.ndarray:
        """Ratings in the scale for movie indices ``targets``, the user folded in from ratings."""
        return clip_to_scale(self.estimate(self.fold_in(items, ratings), targets))

    def predict_stored(self, matrix: sparse.csr_matrix) -> np.ndarray:
        """For a users x movie-index matrix of ratings, each stored rating's prediction (in
        ``matrix.data``'s order), its user folded in from their whole row: :meth:`predict`
        user by user, in one blocked solve over every user (threads, BLAS held to one), where
        a loop of 162,541 fold-ins cost minutes of mostly Python and BLAS start-up."""
        known = sparse.csr_matrix(matrix, dtype=np.float64, copy=True)
        known.data[~self.known[known.indices]] = 0.0
        known.eliminate_zeros()
        known.data -= self.global_mean
        n_factors = self.item_factors.shape[1]
        penalty = np.array([self.bias_reg, *([self.factor_reg] * n_factors)])
        users = solve_rows(known, np.column_stack([self.item_bias, self.item_factors]), penalty)
        del known
        rows = np.repeat(np.arange(matrix.shape[0]), np.diff(matrix.indptr))
        predicted = np.empty(matrix.nnz)
        for start in range(0, matrix.nnz, PREDICT_BLOCK):
            block = slice(start, start + PREDICT_BLOCK)
            items, user = matrix.indices[block], users[rows[block]]
            estimates = np.einsum("ij,ij->i", self.item_factors[items], user[:, 1:])
            estimates += self.global_mean + user[:, 0] + self.item_bias[items]
            predicted[block] = clip_to_scale(estimates)
        return predicted

    def item_side_arrays(self, prefix: str) -> Stored:
        """The arrays and meta every biased-MF model stores; the model adds its own meta."""
        arrays = {
            f"{prefix}item_bias": self.item_bias,
            f"{prefix}item_factors": self.item_factors,
            f"{prefix}known": self.known,
        }
        meta = {
            "bias_reg": self.bias_reg,
            "factor_reg": self.factor_reg,
            "global_mean": self.global_mean,
        }
        return Stored(arrays, meta)

    @staticmethod
    def item_side_from(arrays: Mapping[str, np.ndarray], meta: Any, prefix: str) -> dict[str, Any]:
        """The fields :meth:`item_side_arrays` stored, checked, as constructor keywords."""
        stored = StoredArrays(arrays, prefix)
        return {
            "bias_reg": meta_number(meta, "bias_reg"),
            "factor_reg": meta_number(meta, "factor_reg"),
            "global_mean": meta_number(meta, "global_mean"),
            "item_bias": stored.get("item_bias", np.float64, ("movies",)),
            "item_factors": stored.get("item_factors", np.float64, ("movies", "factors")),
            "known": stored.get("known", np.bool_, ("movies",)),
        }


@dataclass(frozen=True)
class RatingModel(BiasedFactors):
    """Surprise's SVD item side aligned to a movie index, served by :class:`BiasedFactors`.

    ``fit`` trains surprise's SVD with the params and the seed and keeps its item side; the
    fold-in penalties ``bias_reg`` and ``factor_reg`` are hyper-parameters of serving.
    """

    name: ClassVar[str] = "surprise-svd"

    params: SVDParams = field(default_factory=SVDParams)
    seed: int = 0
    bias_reg: float = FOLD_IN_REGS[0]
    factor_reg: float = FOLD_IN_REGS[1]
    global_mean: float = 0.0
    item_bias: np.ndarray = field(default_factory=lambda: np.zeros(0))
    item_factors: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    known: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))

    def fit(self, data: TrainingData) -> RatingModel:
        algo = fit_svd(data.frame, self.params, seed=self.seed)
        return replace(self, **_item_side(algo, data.movie_ids))

    @classmethod
    def from_surprise(
        cls, algo: SVD, movie_ids: np.ndarray, *, bias_reg: float, factor_reg: float
    ) -> RatingModel:
        """The item side of a surprise SVD fitted elsewhere (the comparison's other models)."""
        params = SVDParams(algo.n_factors, algo.n_epochs, algo.lr_bu, algo.reg_bu)
        return cls(params, bias_reg=bias_reg, factor_reg=factor_reg, **_item_side(algo, movie_ids))

    @staticmethod
    def trained_user(algo: AlgoBase, user_id: int) -> UserSide | None:
        """The user side surprise learned, or None for a user it never saw."""
        trainset = algo.trainset
        if not trainset.knows_user(inner := _inner_uid(trainset, user_id)):
            return None
        return UserSide(float(algo.bu[inner]), np.asarray(algo.pu[inner], dtype=np.float64))

    def to_arrays(self, prefix: str) -> Stored:
        stored = self.item_side_arrays(prefix)
        meta = {"params": asdict(self.params), "seed": self.seed, **stored.meta}
        return Stored(stored.arrays, meta)

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, np.ndarray], meta: Any, prefix: str) -> RatingModel:
        return cls(
            params=meta_params(SVDParams, meta),
            seed=meta_int(meta, "seed"),
            **cls.item_side_from(arrays, meta, prefix),
        )


def _item_side(algo: SVD, movie_ids: np.ndarray) -> dict[str, Any]:
    """Surprise's global mean, item biases and factors moved onto our movie index."""
    trainset = algo.trainset
    raw = np.array([trainset.to_raw_iid(i) for i in range(trainset.n_items)], dtype=np.int64)
    positions, present = index_of(movie_ids, raw)
    factors = np.zeros((len(movie_ids), algo.qi.shape[1]), dtype=np.float64)
    bias = np.zeros(len(movie_ids), dtype=np.float64)
    known = np.zeros(len(movie_ids), dtype=bool)
    factors[positions[present]] = algo.qi[present]
    bias[positions[present]] = algo.bi[present]
    known[positions[present]] = True
    return {
        "global_mean": float(trainset.global_mean),
        "item_bias": bias,
        "item_factors": factors,
        "known": known,
    }


def _inner_uid(trainset: Trainset, user_id: int) -> int:
    try:
        return int(trainset.to_inner_uid(user_id))
    except ValueError:
        return -1
