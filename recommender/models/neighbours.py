"""Item neighbourhood term (KNNBaseline with pearson_baseline similarity), sparse top-K per movie.

Surprise's KNNBaseline predicts ``b_ui + sum_j s_ij (r_uj - b_uj) / sum_j s_ij`` over the k most
similar movies j the user rated, with a dense movie x movie similarity matrix. A prediction only
ever uses a movie's most similar neighbours, so we keep the ``stored`` most similar (positive)
neighbours of each movie and drop the rest: two ``movies x stored`` arrays, linear in movies, and
nothing per user. Baselines are fitted by alternating least squares ending with the user step, so
the user bias folded in at serving time from the user's current ratings is exactly the trained one.

The similarities cost one pass over every pair of movies a user rated: the sum over users of
their rating count squared, which at ML-25M shape is 1.5e10 (a user with 32,000 ratings alone
adds 1e9). ``max_user_ratings`` bounds it: a user with more ratings enters the similarities
through that many of them, drawn at random with the model's seed (the baselines still use every
rating). Below the cap the fit is exactly the unbounded one; the README's "Scale" section gives
what the cap costs in quality.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from typing import Any, ClassVar

import numpy as np
from scipy import sparse

from recommender.artifact import ArtifactError
from recommender.dataset import TrainingData
from recommender.models.contract import (
    Stored,
    StoredArrays,
    clip_to_scale,
    meta_int,
    meta_number,
    meta_params,
)
from recommender.progress import progress

# Dense similarity blocks are cut to about this many cells (4 arrays of it in memory per core).
# Small enough that a block's arrays and its sparse products stay under glibc's 32 MB mmap
# ceiling, so the heap reuses them block after block: at 1 << 23 every block was mapped and
# page-faulted in afresh, a quarter of the fit's CPU in the kernel (bench/train_scale.py
# --phase neighbours --rows 5000000: 57 s of 229 s; at 1 << 20, 3 s of 163 s).
BLOCK_CELLS = 1 << 20


@dataclass(frozen=True)
class NeighbourParams:
    """``neighbours`` used per prediction (surprise's k), out of ``stored`` kept per movie;
    ``max_user_ratings`` is how many of one user's ratings the similarities read (None: all)."""

    neighbours: int = 40
    stored: int = 100
    shrinkage: float = 100.0
    reg_user: float = 15.0
    reg_item: float = 10.0
    epochs: int = 10
    max_user_ratings: int | None = None

    def __post_init__(self) -> None:
        # One rating makes no pair of movies: a cap below 2 would leave every similarity 0.
        if self.max_user_ratings is not None and self.max_user_ratings < 2:
            raise ValueError(
                f"max_user_ratings must be at least 2 (or None), got {self.max_user_ratings}"
            )


@dataclass(frozen=True)
class ItemNeighbours:
    """Baselines plus each movie's top neighbours (index ``n_movies`` pads short lists).

    The seed draws the ratings of users above ``params.max_user_ratings``; without a cap, or
    when no user exceeds it, the fit has no random step and the seed changes nothing.
    """

    name: ClassVar[str] = "item-knn-baseline"

    params: NeighbourParams = field(default_factory=NeighbourParams)
    seed: int = 0
    global_mean: float = 0.0
    item_bias: np.ndarray = field(default_factory=lambda: np.zeros(0))
    neighbour_index: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), np.int32))
    neighbour_sim: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), np.float32))
    known: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))

    @property
    def n_movies(self) -> int:
        return len(self.item_bias)

    def fit(self, data: TrainingData) -> ItemNeighbours:
        """Fit baselines and similarities on the users x movies rating matrix (explicit cells)."""
        matrix = sparse.csr_matrix(data.matrix, dtype=np.float64)
        global_mean = float(matrix.data.mean()) if matrix.nnz else 0.0
        users = np.repeat(np.arange(matrix.shape[0]), np.diff(matrix.indptr))
        items = matrix.indices
        centred = matrix.data - global_mean
        user_bias, item_bias = _baselines(users, items, centred, matrix.shape, self.params)
        residual = matrix.copy()
        residual.data = matrix.data - global_mean - user_bias[users] - item_bias[items]
        sampled = at_most_per_row(residual, self.params.max_user_ratings, seed=self.seed)
        index, sim = _top_neighbours(sampled, self.params)
        return replace(
            self,
            global_mean=global_mean,
            item_bias=item_bias,
            neighbour_index=index,
            neighbour_sim=sim,
            known=np.bincount(items, minlength=matrix.shape[1]) > 0,
        )

    def user_bias(self, items: np.ndarray, ratings: np.ndarray) -> float:
        """The user's baseline bias from their ratings: the ALS user step, item biases fixed."""
        offsets = ratings.astype(np.float64) - self.global_mean - self.item_bias[items]
        return float(offsets.sum() / (self.params.reg_user + len(items)))

    def predict(self, items: np.ndarray, ratings: np.ndarray, targets: np.ndarray) -> np.ndarray:
        return clip_to_scale(self.estimate(items, ratings, targets))

    def estimate(self, items: np.ndarray, ratings: np.ndarray, targets: np.ndarray) -> np.ndarray:
        """Unclipped KNNBaseline estimates for ``targets`` (movie indices) from the ratings."""
        bias, residuals = self._residuals(items, ratings)
        return self._estimates(bias, targets, self.term(items, residuals, targets))

    def estimate_and_term(
        self,
        items: np.ndarray,
        ratings: np.ndarray,
        targets: np.ndarray,
        residuals: np.ndarray,
        residual_items: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`estimate` and the :meth:`term` of other ``residuals`` of the same rated movies
        (in the order of ``residual_items``, default ``items``), the lists read once for both:
        what the served blend needs of its neighbours."""
        bias, own = self._residuals(items, ratings)
        rated = [(items, own), (items if residual_items is None else residual_items, residuals)]
        terms = self.terms(rated, targets)
        return self._estimates(bias, targets, terms[0]), terms[1]

    def term(self, items: np.ndarray, residuals: np.ndarray, targets: np.ndarray) -> np.ndarray:
        """Each target's similarity-weighted mean of the user's ``residuals`` (one per rated
        movie of ``items``, after whatever baseline the caller took off) over its first
        ``params.neighbours`` listed neighbours the user rated; 0 where it has none."""
        term: np.ndarray = self.terms([(items, residuals)], targets)[0]
        return term

    def terms(
        self, rated: Sequence[tuple[np.ndarray, np.ndarray]], targets: np.ndarray
    ) -> np.ndarray:
        """:meth:`term` of each (movies, residuals) of ``rated``, one row each. Every set rates
        the same movies (the order may differ): the neighbours a target reads are those of the
        first set, so the lists and the similarities are read once for all of them."""
        # ``take`` rather than ``[]`` for every gather here: less of NumPy's per-call work.
        index = self.neighbour_index.take(targets, axis=0)
        listed = []
        for items, residuals in rated:
            found = np.full(len(self.item_bias) + 1, np.nan)
            found[items] = residuals
            listed.append(found.take(index))
        read = ~np.isnan(listed[0])
        read &= np.cumsum(read, axis=1) <= self.params.neighbours
        weights = self.neighbour_sim.take(targets, axis=0) * read
        total = weights.sum(axis=1)
        wide = weights.astype(np.float64)  # once, not once per set of residuals
        weighted = np.stack([(wide * np.where(read, row, 0.0)).sum(axis=1) for row in listed])
        terms: np.ndarray = np.divide(
            weighted, total, out=np.zeros(weighted.shape), where=total > 0
        )
        return terms

    def _residuals(self, items: np.ndarray, ratings: np.ndarray) -> tuple[float, np.ndarray]:
        """The user's bias and each rating's residual from the baseline (the ratings' dtype
        kept as given: float32 from the store)."""
        bias = self.user_bias(items, ratings)
        residuals: np.ndarray = ratings - self.global_mean - bias - self.item_bias[items]
        return bias, residuals

    def _estimates(self, bias: float, targets: np.ndarray, term: np.ndarray) -> np.ndarray:
        estimates: np.ndarray = self.global_mean + bias + self.item_bias[targets] + term
        return estimates

    def neighbour_lists(self) -> np.ndarray:
        return self.neighbour_index

    def to_arrays(self, prefix: str) -> Stored:
        arrays = {
            f"{prefix}item_bias": self.item_bias,
            f"{prefix}neighbour_index": self.neighbour_index,
            f"{prefix}neighbour_sim": self.neighbour_sim,
            f"{prefix}known": self.known,
        }
        meta = {"params": asdict(self.params), "seed": self.seed, "global_mean": self.global_mean}
        return Stored(arrays, meta)

    @classmethod
    def from_arrays(
        cls, arrays: Mapping[str, np.ndarray], meta: Any, prefix: str
    ) -> ItemNeighbours:
        stored = StoredArrays(arrays, prefix)
        item_bias = stored.get("item_bias", np.float64, ("movies",))
        index = stored.get("neighbour_index", np.int32, ("movies", "stored"))
        sim = stored.get("neighbour_sim", np.float32, ("movies", "stored"))
        if index.size and (index.min() < 0 or index.max() > len(item_bias)):
            raise ArtifactError(f"array {prefix}neighbour_index: movie indices out of range")
        try:
            params = meta_params(NeighbourParams, meta)
        except ValueError as exc:
            raise ArtifactError(f"meta 'params': {exc}") from exc
        return cls(
            params=params,
            seed=meta_int(meta, "seed"),
            global_mean=meta_number(meta, "global_mean"),
            item_bias=item_bias,
            neighbour_index=index,
            neighbour_sim=sim,
            known=stored.get("known", np.bool_, ("movies",)),
        )


def _baselines(
    users: np.ndarray,
    items: np.ndarray,
    centred: np.ndarray,
    shape: tuple[int, int],
    params: NeighbourParams,
) -> tuple[np.ndarray, np.ndarray]:
    """Surprise's ALS baselines (user and item biases around the mean), ending on the user step."""
    n_users, n_items = shape
    user_count = np.bincount(users, minlength=n_users)
    item_count = np.bincount(items, minlength=n_items)
    item_bias = np.zeros(n_items)
    user_bias = np.zeros(n_users)
    for _ in range(params.epochs):
        user_bias = _bias_step(users, centred - item_bias[items], user_count, params.reg_user)
        item_bias = _bias_step(items, centred - user_bias[users], item_count, params.reg_item)
    user_bias = _bias_step(users, centred - item_bias[items], user_count, params.reg_user)
    return user_bias, item_bias


def _bias_step(group: np.ndarray, offsets: np.ndarray, count: np.ndarray, reg: float) -> np.ndarray:
    return np.bincount(group, weights=offsets, minlength=len(count)) / (reg + count)


def at_most_per_row(matrix: sparse.csr_matrix, cap: int | None, *, seed: int) -> sparse.csr_matrix:
    """``matrix`` with each row cut to ``cap`` of its entries, drawn uniformly without
    replacement (seeded); rows within the cap, and the whole matrix when none exceeds it, are
    returned as they are. Kept entries stay in their row's order."""
    counts = np.diff(matrix.indptr)
    if cap is None or not counts.size or counts.max() <= cap:
        return matrix
    rows = np.repeat(np.arange(len(counts)), counts)
    # Random order within each row; an entry is kept when it is among its row's first ``cap``.
    order = np.lexsort((np.random.default_rng(seed).random(matrix.nnz), rows))
    rank = np.empty(matrix.nnz, dtype=np.int64)
    rank[order] = np.arange(matrix.nnz) - matrix.indptr[rows[order]]
    keep = rank < cap
    indptr = np.concatenate([[0], np.cumsum(np.minimum(counts, cap))])
    return sparse.csr_matrix((matrix.data[keep], matrix.indices[keep], indptr), shape=matrix.shape)


def _top_neighbours(
    residual: sparse.csr_matrix, params: NeighbourParams
) -> tuple[np.ndarray, np.ndarray]:
    """Shrunk pearson_baseline similarities, computed in dense row blocks, top ``stored`` kept.

    Memory is a few blocks of ``BLOCK_CELLS`` per core and the two ``movies x stored``
    results; the time is the sum over users of their (capped) rating count squared, four
    sparse products of it, plus a top-K pass over every block.
    """
    n_items = residual.shape[1]
    stored = max(0, min(params.stored, n_items - 1))
    index = np.full((n_items, stored), n_items, dtype=np.int32)
    sim = np.zeros((n_items, stored), dtype=np.float32)
    if stored == 0:
        return index, sim
    rated = residual.copy()
    rated.data = np.ones_like(rated.data)
    squared = residual.multiply(residual).tocsr()
    by_item = [m.T.tocsr() for m in (residual, squared, rated)]
    step = max(1, BLOCK_CELLS // n_items)

    def fill(start: int) -> int:
        rows = slice(start, min(start + step, n_items))
        z, z2, b = (m[rows] for m in by_item)
        block = (z @ residual).toarray()
        # Where either sum of squares is 0 the product sum is 0 too (Cauchy-Schwarz).
        scale = (z2 @ rated).toarray()
        scale *= (b @ squared).toarray()
        np.sqrt(scale, out=scale)
        np.divide(block, scale, out=block, where=scale > 0)
        shrunk = (b @ rated).toarray()
        shrunk -= 1.0
        np.maximum(shrunk, 0.0, out=shrunk)
        block *= shrunk
        shrunk += params.shrinkage
        np.divide(block, shrunk, out=block, where=shrunk > 0)
        block[np.arange(block.shape[0]), np.arange(rows.start, rows.stop)] = 0.0
        top = np.argpartition(block, n_items - stored, axis=1)[:, n_items - stored :]
        values = np.take_along_axis(block, top, axis=1)
        order = np.argsort(-values, axis=1, kind="stable")
        top = np.take_along_axis(top, order, axis=1)
        values = np.take_along_axis(values, order, axis=1)
        positive = values > 0
        index[rows] = np.where(positive, top, n_items)
        sim[rows] = np.where(positive, values, 0.0)
        return rows.stop - rows.start

    # Blocks go to one thread per core: scipy's sparse products and NumPy's partition release
    # the GIL, and each block writes its own rows of the results.
    with (
        progress(n_items, "similar movies", " movies") as bar,
        ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool,
    ):
        for done in pool.map(fill, range(0, n_items, step)):
            bar.update(done)
    return index, sim
