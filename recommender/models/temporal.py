"""Rating prediction with time effects (Koren 2009/2010, "Collaborative filtering with temporal
dynamics"), a biased matrix factorisation fitted by alternating exact ridge solves.

The estimate of user u's rating of movie i on day t is

    mu + b_i + b_{i,Bin(t)} + b_u + alpha_u dev_u(t) + b_{u,t} + q_i . p_u

- ``b_{i,Bin(t)}``: a movie's bias per time bin (``bins`` equal slices of the training period;
  a later day counts in the last bin): films age.
- ``alpha_u dev_u(t)``: the user's bias drifts, ``dev_u(t) = sign(t - t_u) |t - t_u|^beta`` in
  days around the mean day ``t_u`` of the user's ratings. ``t`` is held to the days the user
  rated on, so a prediction years after a user's last rating keeps the bias they last had
  instead of extrapolating the drift.
- ``b_{u,t}``: a bias per user and day. Ratings given in one sitting share a mood and a use of
  the scale (MovieLens added half stars in 2003, and some users only then used them); the bias
  of the day of a prediction comes from the user's ratings of that same day, so a rating given
  now moves the user's other predictions of today at once.

Everything about the user is folded in from their current ratings and their days at each
prediction (:meth:`TemporalFactors.fold_in`): one ridge solve for ``(b_u, alpha_u, p_u)`` with
the day biases eliminated exactly (each day's bias is the shrunk mean of that day's residuals,
so the solve stays one ``(k+2)``-square system however many days the user rated on). Training
alternates the same solve for every user with its mirror for every movie (``b_i, q_i`` with the
bin biases eliminated), so the user step of training is the serving fold-in: memory is the
rating matrix plus arrays linear in movies (``movies x bins`` and ``movies x factors``), nothing
per user is stored.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from typing import Any, ClassVar, NamedTuple

import numpy as np
from scipy import sparse
from scipy.linalg import lapack
from threadpoolctl import threadpool_limits

from recommender.artifact import ArtifactError
from recommender.dataset import TrainingData, index_of
from recommender.models.contract import (
    Stored,
    StoredArrays,
    clip_to_scale,
    days_of,
    meta_int,
    meta_number,
    meta_params,
)
from recommender.progress import progress

# Rows (users or movies) solved per task of the thread pool.
SOLVE_BLOCK = 512


@dataclass(frozen=True)
class TemporalParams:
    """Factors, sweeps, time bins, the drift exponent, and the ridge penalty of every term.

    ``drift_exponent`` (0.4) and ``bins`` (30) are Koren's values for Netflix; the defaults
    of the rest were measured on a validation carve of ml-latest-small's 80/20 training part
    (one change at a time from a first guess; README "Recommender"), and the served blend
    searches the user-side day and factor penalties again inside every fit
    (:mod:`recommender.models.temporal_blend`).
    """

    factors: int = 50
    epochs: int = 12
    bins: int = 30
    drift_exponent: float = 0.4
    user_bias_reg: float = 5.0
    user_drift_reg: float = 50.0
    user_factor_reg: float = 8.0
    user_day_reg: float = 10.0
    item_bias_reg: float = 5.0
    item_bin_reg: float = 100.0
    item_factor_reg: float = 15.0

    def __post_init__(self) -> None:
        penalties = (
            self.user_bias_reg,
            self.user_drift_reg,
            self.user_factor_reg,
            self.user_day_reg,
            self.item_bias_reg,
            self.item_bin_reg,
            self.item_factor_reg,
        )
        if self.factors < 1 or self.epochs < 1 or self.bins < 1 or min(penalties) <= 0:
            raise ValueError(f"time effects need factors, epochs, bins, penalties > 0: {self}")
        if not 0.0 < self.drift_exponent <= 1.0:
            raise ValueError(f"drift_exponent must be in (0, 1], got {self.drift_exponent}")


class UserTime(NamedTuple):
    """A user folded in: bias, drift, factors, the days that bound the drift, the bias of
    each day they rated on (``days`` sorted), and the movies folded in (``items``, by day) with
    each rating's residual from the baseline of its day (:meth:`TemporalFactors.baseline`
    without the factor term), which the blend's neighbour term reads."""

    bias: float
    drift: float
    factors: np.ndarray
    mean_day: float
    first_day: int
    last_day: int
    days: np.ndarray
    day_bias: np.ndarray
    items: np.ndarray
    residuals: np.ndarray


def deviation(days: np.ndarray, mean_day: float, exponent: float) -> np.ndarray:
    """``sign(t - t_u) |t - t_u|^beta``: Koren's drift of a user's bias, in days."""
    offset = np.asarray(days, dtype=np.float64) - mean_day
    result: np.ndarray = np.sign(offset) * np.abs(offset) ** exponent
    return result


def grouped_ridge(
    per_group: np.ndarray,
    design: np.ndarray,
    target: np.ndarray,
    starts: np.ndarray,
    penalty: np.ndarray,
    group_penalty: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Ridge fit of ``target ~ per_group[group] @ a + design @ b + c[group]`` with the group
    effects eliminated; returns ``theta = (a, b)`` and the group effects ``c``.

    Rows are sorted by group; ``starts`` are the first row of each group. ``per_group`` holds
    the columns that are constant within a group, one row per group (the fold-in's 1 and drift,
    per day), ``design`` the columns that vary by row (the rated movies' factors). ``theta`` is
    penalised by ``penalty`` (one per column of ``per_group``, then of ``design``), each ``c_g``
    by ``group_penalty`` (``λ``). For fixed ``theta`` the best ``c_g`` is the group's residual
    sum times ``w_g = 1 / (λ + n_g)``; substituted, the problem stays one square system
    ``(X'X - S'WS + diag(penalty)) theta = X'y - S'Ws``, with ``X`` the full design, ``S`` its
    per-group column sums and ``s`` those of ``y``.

    Kept per group, the constant columns ``G`` add nothing per row: their column sums are
    ``n_g G_g`` and, as ``1 - n_g w_g = λ w_g``, their blocks of the system are
    ``G' diag(λ w n) G``, ``G' diag(λ w) D`` and ``G' diag(λ w) s`` (``D`` the group sums of
    ``design``). The work per row is one ``design' design`` (BLAS syrk), one product with
    ``target`` and one pass of group sums; the rest is per group.
    """
    counts = group_counts(starts, len(target))
    weights = 1.0 / (group_penalty + counts)
    kept = group_penalty * weights
    sums = group_sums(design, starts)
    target_sums = np.add.reduceat(target, starts)
    width = per_group.shape[1]
    leading = per_group.T * kept
    scaled = sums * np.sqrt(weights)[:, np.newaxis]
    gram = np.empty((len(penalty), len(penalty)))
    gram[:width, :width] = (leading * counts) @ per_group
    gram[:width, width:] = leading @ sums
    gram[width:, :width] = gram[:width, width:].T
    gram[width:, width:] = design.T @ design
    gram[width:, width:] -= scaled.T @ scaled
    gram.flat[:: len(penalty) + 1] += penalty
    right = np.concatenate(
        [leading @ target_sums, design.T @ target - sums.T @ (weights * target_sums)]
    )
    # LAPACK's dgesv as np.linalg.solve calls it (the same result), without its Python layer.
    _, _, theta, info = lapack.dgesv(gram, right)
    if info != 0:
        raise np.linalg.LinAlgError(f"singular fold-in system (LAPACK dgesv info {info})")
    fitted = counts * (per_group @ theta[:width]) + sums @ theta[width:]
    return theta, weights * (target_sums - fitted)


def group_sums(rows: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """The sum of each group's rows (rows sorted by group, ``starts`` the first of each).

    One product with a sparse 0/1 matrix. ``np.add.reduceat`` along the rows runs its inner
    loop down each column of each group, groups x columns short strided loops: 3-4x slower
    for the heaviest ml-latest-small user's 2,698 x 50 factors over 446 days."""
    n = len(rows)
    # int32 indices, as scipy keeps them: int64 ones are checked and converted on every call.
    indptr = np.empty(len(starts) + 1, dtype=np.int32)
    indptr[:-1] = starts
    indptr[-1] = n
    indicator = sparse.csr_array(
        (np.ones(n), np.arange(n, dtype=np.int32), indptr), shape=(len(starts), n)
    )
    sums: np.ndarray = indicator @ rows
    return sums


def group_counts(starts: np.ndarray, n: int) -> np.ndarray:
    """The size of each group of ``n`` sorted rows whose groups begin at ``starts``."""
    counts = np.empty_like(starts)
    np.subtract(starts[1:], starts[:-1], out=counts[:-1])
    counts[-1:] = n - starts[-1:]
    return counts


def day_order(days: np.ndarray) -> np.ndarray:
    """The stable sort order of integer ``days``. One user's days span far less than 2**16
    days (179 years): as 16-bit offsets from the first, NumPy sorts them by radix sort, about
    twice as fast as its merge sort of 64-bit keys for a heavy user's 2,698."""
    low = days.min()
    if days.max() - low < 1 << 16:
        return np.argsort((days - low).astype(np.uint16), kind="stable")
    return np.argsort(days, kind="stable")


def group_starts(sorted_keys: np.ndarray) -> np.ndarray:
    """First position of each run of equal values in a sorted array."""
    if len(sorted_keys) == 0:
        return np.zeros(0, dtype=np.int64)
    return np.flatnonzero(np.concatenate([[True], sorted_keys[1:] != sorted_keys[:-1]]))


@dataclass(frozen=True)
class TemporalFactors:
    """The movie side of the time-aware model on a movie index; users are folded in.

    ``first_day`` and ``bin_days`` place a day in a bin; movies the model never saw have zero
    terms, so their estimate is the user's baseline.
    """

    name: ClassVar[str] = "temporal-factors"

    params: TemporalParams = field(default_factory=TemporalParams)
    seed: int = 0
    global_mean: float = 0.0
    first_day: int = 0
    bin_days: float = 1.0
    item_bias: np.ndarray = field(default_factory=lambda: np.zeros(0))
    item_bin_bias: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    item_factors: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    known: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))

    @property
    def n_movies(self) -> int:
        return len(self.item_bias)

    def bin_of(self, days: np.ndarray) -> np.ndarray:
        """The time bin of each day; days outside the training period go to the nearest bin."""
        bins = np.floor((np.asarray(days, dtype=np.float64) - self.first_day) / self.bin_days)
        # np.minimum/np.maximum, not np.clip: the same values without np.clip's Python layer.
        return np.minimum(np.maximum(bins, 0), self.params.bins - 1).astype(np.int64)

    def bin_biases(self, items: np.ndarray, bins: np.ndarray) -> np.ndarray:
        """``item_bin_bias[items, bins]``, as one ``take`` from the flat array: NumPy's indexing
        by two arrays costs about twice as much for a heavy user's 2,698 ratings."""
        flat = items * self.item_bin_bias.shape[1]
        flat += bins
        biases: np.ndarray = self.item_bin_bias.ravel().take(flat)
        return biases

    # -- fitting ------------------------------------------------------------------------------

    def fit(self, data: TrainingData) -> TemporalFactors:
        params = self.params
        frame = data.frame
        users = np.searchsorted(data.user_ids, frame["user_id"].to_numpy(np.int64))
        items, present = index_of(data.movie_ids, frame["movie_id"].to_numpy(np.int64))
        users, items = users[present], items[present]
        ratings = frame["rating"].to_numpy(np.float64)[present]
        days = days_of(frame["timestamp"].to_numpy(np.int64)[present])
        n_users, n_items = len(data.user_ids), len(data.movie_ids)
        global_mean = float(ratings.mean()) if len(ratings) else 0.0
        first_day = int(days.min()) if len(days) else 0
        span = float(days.max() - first_day + 1) if len(days) else 1.0
        model = replace(
            self,
            global_mean=global_mean,
            first_day=first_day,
            bin_days=span / params.bins,
            known=np.bincount(items, minlength=n_items) > 0,
        )
        bins = model.bin_of(days)
        centred = ratings - global_mean
        # Each user's mean day and drift per rating are fixed by the data: computed once.
        user_count = np.bincount(users, minlength=n_users)
        mean_day = np.bincount(users, weights=days, minlength=n_users) / np.maximum(user_count, 1)
        drift_of = deviation(days, mean_day[users], params.drift_exponent)
        by_user = _Rows.of(users, days, n_users)
        by_item = _Rows.of(items, bins, n_items)
        rng = np.random.default_rng(self.seed)
        item_side = np.zeros((n_items, params.factors + 1))
        item_side[:, 1:] = rng.normal(0.0, 0.1, (n_items, params.factors))
        bin_effect = np.zeros(len(ratings))
        user_penalty = np.array(
            [params.user_bias_reg, params.user_drift_reg]
            + [params.user_factor_reg] * params.factors
        )
        item_penalty = np.array([params.item_bias_reg] + [params.item_factor_reg] * params.factors)
        item_bin_bias = np.zeros((n_items, params.bins))
        with progress(params.epochs * (n_users + n_items), "time-aware ALS", " rows") as bar:
            for _ in range(params.epochs):
                # User step: [b_u, alpha_u, p_u] and the day biases, movies fixed.
                target = centred - item_side[items, 0] - bin_effect
                user_side, day_effect = by_user.solve(
                    _Design(items, item_side[:, 1:], drift_of),
                    target,
                    user_penalty,
                    params.user_day_reg,
                    bar,
                )
                # Movie step: [b_i, q_i] and the bin biases, users fixed.
                target = centred - user_side[users, 0] - user_side[users, 1] * drift_of - day_effect
                item_side, bin_effect = by_item.solve(
                    _Design(users, user_side[:, 2:], None),
                    target,
                    item_penalty,
                    params.item_bin_reg,
                    bar,
                )
        item_bin_bias[items, bins] = bin_effect
        return replace(
            model,
            item_bias=item_side[:, 0].copy(),
            item_bin_bias=item_bin_bias,
            item_factors=np.ascontiguousarray(item_side[:, 1:]),
        )

    # -- serving ------------------------------------------------------------------------------

    def fold_in(
        self,
        items: np.ndarray,
        ratings: np.ndarray,
        days: np.ndarray,
        penalties: TemporalParams | None = None,
    ) -> UserTime:
        """The user's terms from their ratings of movie indices ``items`` on ``days`` (the
        training user step; ``penalties`` overrides the user-side ones, as the validation
        search does)."""
        params = penalties or self.params
        days = np.asarray(days, np.int64)
        keep = self.known[items]
        if not keep.all():  # the blend hands over known movies only: no copies then
            items, ratings, days = items[keep], ratings[keep], days[keep]
        k = self.item_factors.shape[1]
        if len(items) == 0:
            none = np.zeros(0)
            return UserTime(
                0.0, 0.0, np.zeros(k), 0.0, 0, 0, none.astype(np.int64), none, items, none
            )
        # ``take``, not ``[]``: NumPy's fancy indexing of 1-D arrays costs more per call.
        order = day_order(days)
        items, ratings, days = items.take(order), ratings.take(order), days.take(order)
        starts = group_starts(days)
        counts = group_counts(starts, len(days))
        rated_days = days[starts]
        # The exact integer sum, then one division: what days.mean() gives, without its
        # buffered cast of every day to float.
        mean_day = int(days.sum()) / len(days)
        # Bias, drift and time bin are constant within a day: one row per day, not per rating.
        per_day = np.ones((len(starts), 2))
        per_day[:, 1] = deviation(rated_days, mean_day, self.params.drift_exponent)
        target = ratings.astype(np.float64)
        target -= self.global_mean
        target -= self.item_bias.take(items)
        target -= self.bin_biases(items, np.repeat(self.bin_of(rated_days), counts))
        penalty = np.full(k + 2, params.user_factor_reg)
        penalty[:2] = params.user_bias_reg, params.user_drift_reg
        # The movies' factors are the one ratings x factors array of a call: building a
        # ratings x (factors + 2) design from a gathered copy made two such arrays, and the
        # allocator returned and re-faulted their pages on every call (about 500 page faults,
        # a third of the heavy user's predict).
        theta, day_bias = grouped_ridge(
            per_day,
            np.take(self.item_factors, items, axis=0),
            target,
            starts,
            penalty,
            params.user_day_reg,
        )
        target -= np.repeat(per_day @ theta[:2] + day_bias, counts)
        return UserTime(
            float(theta[0]),
            float(theta[1]),
            theta[2:],
            mean_day,
            int(days[0]),
            int(days[-1]),
            rated_days,
            day_bias,
            items,
            target,
        )

    def baseline(self, user: UserTime, targets: np.ndarray, days: np.ndarray) -> np.ndarray:
        """The estimates without the factor term: every bias, as of ``days`` (one per target)."""
        days = np.asarray(days, dtype=np.int64)
        if days.shape != targets.shape:
            days = np.broadcast_to(days, targets.shape)
        held = np.minimum(np.maximum(days, user.first_day), user.last_day)
        drift = deviation(held, user.mean_day, self.params.drift_exponent)
        same_day = np.zeros(len(targets))
        if len(user.days):
            found = np.minimum(np.searchsorted(user.days, days), len(user.days) - 1)
            same_day = np.where(user.days[found] == days, user.day_bias[found], 0.0)
        biases: np.ndarray = (
            self.global_mean
            + self.item_bias[targets]
            + self.bin_biases(targets, self.bin_of(days))
            + user.bias
            + user.drift * drift
            + same_day
        )
        return biases

    def estimate(self, user: UserTime, targets: np.ndarray, days: np.ndarray) -> np.ndarray:
        """Unclipped estimates for movie indices ``targets`` on ``days`` (one per target)."""
        estimates: np.ndarray = (
            self.baseline(user, targets, days) + self.item_factors[targets] @ user.factors
        )
        return estimates

    @property
    def last_day(self) -> int:
        """The last day of the training period (of its last time bin)."""
        return int(self.first_day + self.params.bins * self.bin_days) - 1

    def predict_at(
        self,
        items: np.ndarray,
        ratings: np.ndarray,
        days: np.ndarray,
        targets: np.ndarray,
        target_days: np.ndarray,
    ) -> np.ndarray:
        user = self.fold_in(items, ratings, days)
        return clip_to_scale(self.estimate(user, targets, target_days))

    def predict(self, items: np.ndarray, ratings: np.ndarray, targets: np.ndarray) -> np.ndarray:
        """Without days: every rating and prediction as of the training period's last day."""
        day = np.full(len(items), self.last_day)
        return self.predict_at(items, ratings, day, targets, np.full(len(targets), self.last_day))

    # -- artifact -----------------------------------------------------------------------------

    def to_arrays(self, prefix: str) -> Stored:
        arrays = {
            f"{prefix}item_bias": self.item_bias,
            f"{prefix}item_bin_bias": self.item_bin_bias,
            f"{prefix}item_factors": self.item_factors,
            f"{prefix}known": self.known,
        }
        meta = {
            "params": asdict(self.params),
            "seed": self.seed,
            "global_mean": self.global_mean,
            "first_day": self.first_day,
            "bin_days": self.bin_days,
        }
        return Stored(arrays, meta)

    @classmethod
    def from_arrays(
        cls, arrays: Mapping[str, np.ndarray], meta: Any, prefix: str
    ) -> TemporalFactors:
        try:
            params = meta_params(TemporalParams, meta)
        except ValueError as exc:
            raise ArtifactError(f"meta 'params': {exc}") from exc
        stored = StoredArrays(arrays, prefix)
        bin_days = meta_number(meta, "bin_days")
        if bin_days <= 0:
            raise ArtifactError(f"meta 'bin_days' is {bin_days}, expected a positive number")
        return cls(
            params=params,
            seed=meta_int(meta, "seed"),
            global_mean=meta_number(meta, "global_mean"),
            first_day=meta_int(meta, "first_day"),
            bin_days=bin_days,
            item_bias=stored.get("item_bias", np.float64, ("movies",)),
            item_bin_bias=stored.get("item_bin_bias", np.float64, ("movies", params.bins)),
            item_factors=stored.get("item_factors", np.float64, ("movies", params.factors)),
            known=stored.get("known", np.bool_, ("movies",)),
        )


@dataclass(frozen=True)
class _Design:
    """The design rows of an ALS half-step: a 1 for the bias, the drift when fitting users,
    and the other side's factors, for any rating positions."""

    other: np.ndarray
    factors: np.ndarray
    drift: np.ndarray | None

    def rows(self, positions: np.ndarray) -> np.ndarray:
        leading = [np.ones(len(positions))]
        if self.drift is not None:
            leading.append(self.drift[positions])
        return np.column_stack([*leading, self.factors[self.other[positions]]])


@dataclass(frozen=True)
class _Rows:
    """The ratings grouped by one side (users or movies), each row's ratings sorted by group
    (day or bin): ``order`` lists rating positions row by row, ``indptr`` bounds each row's
    ratings and ``group_ptr`` its groups, whose first ratings are ``group_start``."""

    order: np.ndarray
    indptr: np.ndarray
    group_start: np.ndarray
    group_ptr: np.ndarray

    @classmethod
    def of(cls, rows: np.ndarray, groups: np.ndarray, n_rows: int) -> _Rows:
        order = np.lexsort((groups, rows))
        indptr = np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=n_rows))])
        sorted_rows, sorted_groups = rows[order], groups[order]
        new = np.ones(len(order), dtype=bool)
        new[1:] = (sorted_rows[1:] != sorted_rows[:-1]) | (sorted_groups[1:] != sorted_groups[:-1])
        group_start = np.flatnonzero(new)
        group_ptr = np.searchsorted(group_start, indptr)
        return cls(order, indptr, group_start, group_ptr)

    def solve(
        self,
        design: _Design,
        target: np.ndarray,
        penalty: np.ndarray,
        group_penalty: float,
        bar: Any,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Every row's :func:`grouped_ridge` fit, rows in blocks (the solves stacked); returns
        the row parameters (zero for rows without ratings) and each rating's group effect, in
        rating order. The design rows are built a block at a time, so memory holds one block's
        rows, never ``ratings x parameters`` (10 GB at ML-25M size)."""
        n_rows = len(self.indptr) - 1
        width = len(penalty)
        solved = np.zeros((n_rows, width))
        effect = np.zeros(len(target))
        indptr, group_ptr, group_start = self.indptr, self.group_ptr, self.group_start
        diagonal = np.diag_indices(width)

        def solve_block(start: int) -> int:
            stop = min(start + SOLVE_BLOCK, n_rows)
            rows = np.arange(start, stop)
            rows = rows[indptr[rows + 1] > indptr[rows]]
            if len(rows) == 0:
                return stop - start
            low, high = indptr[start], indptr[stop]
            first, last = group_ptr[start], group_ptr[stop]
            local = group_start[first:last] - low
            positions = self.order[low:high]
            block, values = design.rows(positions), target[positions]
            sums = np.add.reduceat(block, local, axis=0)
            target_sums = np.add.reduceat(values, local)
            counts = np.diff(np.append(local, high - low))
            weights = 1.0 / (group_penalty + counts)
            weighted = sums * weights[:, np.newaxis]
            grams = np.empty((len(rows), width, width))
            for n, row in enumerate(rows):
                x = block[indptr[row] - low : indptr[row + 1] - low]
                g = slice(group_ptr[row] - first, group_ptr[row + 1] - first)
                grams[n] = x.T @ x - weighted[g].T @ sums[g]
            grams[:, diagonal[0], diagonal[1]] += penalty
            row_starts = indptr[rows] - low
            right = np.add.reduceat(block * values[:, np.newaxis], row_starts, axis=0)
            right -= np.add.reduceat(
                weighted * target_sums[:, np.newaxis], group_ptr[rows] - first, axis=0
            )
            theta = np.linalg.solve(grams, right[..., np.newaxis])[..., 0]
            solved[rows] = theta
            # Each group's row, to subtract its fitted part from the group's residual sum.
            owner = np.repeat(np.arange(len(rows)), group_ptr[rows + 1] - group_ptr[rows])
            effects = weights * (target_sums - np.einsum("gp,gp->g", sums, theta[owner]))
            effect[positions] = np.repeat(effects, counts)
            return stop - start

        with (
            threadpool_limits(1, user_api="blas"),
            ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool,
        ):
            for done in pool.map(solve_block, range(0, n_rows, SOLVE_BLOCK)):
                bar.update(done)
        return solved, effect
