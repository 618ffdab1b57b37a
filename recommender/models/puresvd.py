"""PureSVD ranker (Cremonesi et al. 2010): a truncated SVD of the users x movies rating matrix.

A user's scores are ``r_u W V G V^T``: the user's (shifted, popularity-weighted) rating row
projected onto the top-k item factors and back. Because the user factor is computed from the
rating row itself, folding in a user's *current* ratings at serving time gives exactly the factor
training would give — serving is stateless and updates are instant by construction.

Variants measured on the validation split: ``shift`` subtracts a constant from every stored
rating (so a 1-star rating counts against similar movies), ``beta`` scales each movie's column
by ``count^-beta`` before the SVD (beta > 0 favours rare movies, beta < 0 popular ones), and
``shrinkage`` (lambda) weights factor f by ``g_f = s_f^2 / (s_f^2 + lambda)``: plain PureSVD
keeps every one of its k factors whole (lambda = 0) and drops the rest, which forces a small k;
shrinking lets a larger k keep the weak factors' signal while damping their noise, a ridge on
the spectrum. The weights are folded into the stored factors (``V sqrt(G)``), so serving is the
same two products at any lambda.

Because the score is linear in the user's ratings, it splits exactly over them: movie j's score
is ``sum_i w_i (r_i - shift) <F_i, F_j>`` over the user's rated movies i (:meth:`contributions`),
which is what an explanation shows.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar

import numpy as np
from scipy import sparse

from recommender.dataset import TrainingData
from recommender.models.contract import Stored, StoredArrays, meta_int, meta_params
from recommender.models.threads import product
from recommender.progress import progress

# Randomized SVD: power iterations and extra columns beyond the factors (see truncated_svd).
POWER_ITERATIONS = 2
OVERSAMPLING = 20


@dataclass(frozen=True)
class PureSVDParams:
    """The defaults won ``movierec evaluate``'s validation search on ml-latest-small (NDCG@10
    0.144 on the ranking train part's own temporal split; k=20 unshrunk, served before, 0.137)."""

    factors: int = 200
    beta: float = 0.0
    shift: float = 2.5
    shrinkage: float = 1000.0


# One pass of a randomized SVD over the data: given ``right`` (movies x width), the pair
# ``(X^T Y, Y^T Y)`` for ``Y = X right``. NumPy computes it with two sparse products, Spark
# with one pass over the rows (recommender.spark.puresvd); the rest of the SVD is shared.
GramPass = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]


def truncated_svd(
    matrix: sparse.csr_matrix, factors: int, *, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """The top ``factors`` singular values (descending) and right singular vectors (columns)
    of ``matrix``, by :func:`randomized_svd` over NumPy/SciPy products."""
    by_item = matrix.T.tocsr()

    def gram_pass(right: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        users = product(matrix, right)
        return product(by_item, users), users.T @ users

    return randomized_svd(gram_pass, matrix.shape, factors, seed=seed)


def randomized_svd(
    gram_pass: GramPass, shape: tuple[int, int], factors: int, *, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """The top ``factors`` singular values and right singular vectors of the ``shape`` matrix
    X that ``gram_pass`` reads, by randomized SVD (Halko, Martinsson and Tropp 2011).

    ARPACK's Lanczos (``scipy.sparse.linalg.svds``) runs an unknown number of restarts, each
    re-orthogonalising about ``2 x factors`` vectors of each side; this is a fixed
    ``POWER_ITERATIONS + 1`` passes over X with ``factors + OVERSAMPLING`` columns, so its time
    is known in advance (the progress bar's ETA) and the products are BLAS-3 shaped (NumPy runs
    them a row range per core, ``threads.product``). Its weakest
    factors are a few per cent off, which the shrinkage damps anyway: on ml-latest-small's
    validation split NDCG@10 was 0.1450 against ARPACK's 0.1444 (k=200, lambda=1000).

    Each pass turns a movie-side basis into ``X^T Q`` for an orthonormal basis Q of the span of
    ``Y = X right``, with ``Q = Y W`` for W from the small Gram matrix ``Y^T Y`` (no QR of the
    tall user side, which a cluster would have to distribute); the movie side is orthonormalised
    here, by QR of a ``movies x width`` matrix. The result depends on the spans only, so any
    engine that computes the pass gets the same factors up to round-off, from the same test
    matrix (drawn from ``seed``). Directions of Y that are zero to working precision (X of lower
    rank than the width) are dropped; missing factors come back as zeros.
    """
    n_movies = shape[1]
    width = min(factors + OVERSAMPLING, *shape)
    right = np.random.default_rng(seed).standard_normal((n_movies, width))
    with progress(POWER_ITERATIONS + 1, "ranker SVD", " passes") as bar:
        for done in range(POWER_ITERATIONS + 1):
            cross, gram = gram_pass(right)
            # X^T Q: the rows of Q^T X, as columns; X's row space captured in ``width`` dims.
            projected = cross @ _whitening(gram)
            bar.update()
            if done < POWER_ITERATIONS:
                right = _orthonormal(projected)
    _, singular, vt = np.linalg.svd(projected.T, full_matrices=False)
    found = min(factors, len(singular))
    values = np.zeros(factors)
    vectors = np.zeros((n_movies, factors))
    values[:found] = singular[:found]
    vectors[:, :found] = vt[:found].T
    return values, vectors


def _whitening(gram: np.ndarray) -> np.ndarray:
    """W with ``W^T G W = I`` for the Gram matrix ``G = Y^T Y``, so ``Y W`` is an orthonormal
    basis of Y's span; directions with eigenvalues at round-off level are left out."""
    eigenvalues, eigenvectors = np.linalg.eigh(gram)
    keep = eigenvalues > eigenvalues.max(initial=0.0) * len(gram) * np.finfo(np.float64).eps
    whitening: np.ndarray = eigenvectors[:, keep] / np.sqrt(eigenvalues[keep])
    return whitening


def _orthonormal(columns: np.ndarray) -> np.ndarray:
    basis: np.ndarray = np.linalg.qr(columns)[0]
    return basis


def column_weights(counts: np.ndarray, beta: float) -> np.ndarray:
    """Each movie's column weight from its rating count: ``count^-beta``, 0 for unrated."""
    counts = np.asarray(counts, dtype=np.float64)
    weights: np.ndarray = np.where(counts > 0, np.maximum(counts, 1.0) ** -beta, 0.0)
    return weights


def svd_factors(params: PureSVDParams, shape: tuple[int, int]) -> int:
    """How many factors a PureSVD of a ``shape`` matrix has: ``params.factors`` at most."""
    factors = min(params.factors, min(shape) - 1)
    if factors < 1:
        raise ValueError(f"PureSVD needs at least a 2 x 2 rating matrix, got {shape}")
    return factors


@dataclass(frozen=True)
class Spectrum:
    """A truncated SVD before shrinkage: column weights, singular values and item vectors.

    The validation search factorises once per (k, beta, shift) and tries every lambda on it.
    """

    column_weights: np.ndarray
    singular_values: np.ndarray
    vectors: np.ndarray

    @classmethod
    def of(cls, matrix: sparse.csr_matrix, params: PureSVDParams, *, seed: int) -> Spectrum:
        factors = svd_factors(params, matrix.shape)
        weights = column_weights(np.diff(matrix.tocsc().indptr), params.beta)
        weighted = matrix.astype(np.float64, copy=True)
        weighted.data -= params.shift
        weighted = weighted @ sparse.diags(weights)
        singular, vectors = truncated_svd(weighted.tocsr(), factors, seed=seed)
        return cls(weights, singular, vectors)

    def shrunk(self, params: PureSVDParams, *, seed: int) -> PureSVD:
        """The ranker with each factor scaled by ``sqrt(g_f)``, so ``F F^T = V G V^T``."""
        squared = self.singular_values**2
        gains = squared / (squared + params.shrinkage) if params.shrinkage > 0 else 1.0
        return PureSVD(
            params=params,
            seed=seed,
            item_factors=np.ascontiguousarray(self.vectors * np.sqrt(gains), dtype=np.float32),
            column_weights=self.column_weights.astype(np.float32),
        )


@dataclass(frozen=True)
class PureSVD:
    """Item factors ``F`` (movies x k, shrinkage folded in) and the per-movie column weights.

    The seed draws the randomized SVD's test matrix: another seed gives the same leading factors
    up to sign and round-off (the weakest a little off), and the scores do not depend on sign.
    """

    name: ClassVar[str] = "puresvd"

    params: PureSVDParams = field(default_factory=PureSVDParams)
    seed: int = 0
    item_factors: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), np.float32))
    column_weights: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))

    @property
    def n_movies(self) -> int:
        return len(self.column_weights)

    def fit(self, data: TrainingData) -> PureSVD:
        return Spectrum.of(data.matrix, self.params, seed=self.seed).shrunk(
            self.params, seed=self.seed
        )

    def user_factors(self, items: np.ndarray, ratings: np.ndarray) -> np.ndarray:
        """Fold a user in from their ratings (column indices and values); k floats."""
        factors: np.ndarray = self._weighted(items, ratings) @ self.item_factors[items]
        return factors

    def scores(self, items: np.ndarray, ratings: np.ndarray) -> np.ndarray:
        """Ranking scores for every movie; higher is better, rated movies not yet excluded."""
        scores: np.ndarray = self.item_factors @ self.user_factors(items, ratings)
        return scores

    def contributions(
        self, items: np.ndarray, ratings: np.ndarray, targets: np.ndarray
    ) -> np.ndarray:
        """Rated movies x ``targets``: what each rated movie adds to each target's score.

        Each column sums to the target's :meth:`scores` (up to float32 round-off).
        """
        similarity = self.item_factors[items] @ self.item_factors[targets].T
        added: np.ndarray = self._weighted(items, ratings)[:, np.newaxis] * similarity
        return added

    def _weighted(self, items: np.ndarray, ratings: np.ndarray) -> np.ndarray:
        weighted: np.ndarray = (
            ratings.astype(np.float32) - self.params.shift
        ) * self.column_weights[items]
        return weighted

    def item_vectors(self) -> np.ndarray:
        return self.item_factors

    def to_arrays(self, prefix: str) -> Stored:
        arrays = {
            f"{prefix}item_factors": self.item_factors,
            f"{prefix}column_weights": self.column_weights,
        }
        return Stored(arrays, {"params": asdict(self.params), "seed": self.seed})

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, np.ndarray], meta: Any, prefix: str) -> PureSVD:
        stored = StoredArrays(arrays, prefix)
        return cls(
            params=meta_params(PureSVDParams, meta),
            seed=meta_int(meta, "seed"),
            item_factors=stored.get("item_factors", np.float32, ("movies", "factors")),
            column_weights=stored.get("column_weights", np.float32, ("movies",)),
        )
