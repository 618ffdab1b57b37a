"""The model contract: what a model offers, so that serving and artifacts need not know which.

Two tasks, two protocols, in the manner of scikit-learn: a model is built from its
hyper-parameters (a params dataclass) and, where it is randomised, a seed; ``fit`` returns the
fitted model and depends on nothing but the data, the hyper-parameters and the seed; everything
a fitted model answers from is in the arrays and JSON meta it stores. An unfitted model is a
model of zero movies. Models speak movie *indices* of one shared index
(:class:`~recommender.dataset.TrainingData`); the serving object translates ids.

- A :class:`Ranker` scores every movie for one user, given the user's rated movies and ratings.
- A :class:`RatingPredictor` predicts one user's ratings of candidate movies, clipped to the
  rating scale, and says which movies it was trained on (the rest get baselines only).

Each model stores itself under a key prefix its owner chooses (``ranker.``, ``rating.svd.``) so
that several fit in one ``.npz``: ``to_arrays(prefix)`` gives arrays and meta, and
``from_arrays(arrays, meta, prefix)`` rebuilds the model, refusing with :class:`ArtifactError`
any array that is missing, of another dtype or shape, or not finite, and meta of the wrong type:
an artifact is data from disk and is checked like any other input.
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from collections.abc import Mapping
from typing import Any, ClassVar, Literal, NamedTuple, Protocol, Self, TypeVar, runtime_checkable

import numpy as np
import numpy.typing as npt
from scipy import sparse

from data.domain import RATING_SCALE
from recommender.artifact import ArtifactError
from recommender.dataset import TrainingData


class Stored(NamedTuple):
    """A model as saved: arrays under its prefix, and meta that ``json.dumps`` accepts."""

    arrays: dict[str, np.ndarray]
    meta: dict[str, Any]


class Model(Protocol):
    """What both tasks share: a registry name, fitting, and storage."""

    name: ClassVar[str]

    @property
    def n_movies(self) -> int:
        """Size of the movie index the model was fitted on (0 before ``fit``)."""
        ...

    def fit(self, data: TrainingData) -> Self: ...

    def to_arrays(self, prefix: str) -> Stored: ...

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, np.ndarray], meta: Any, prefix: str) -> Self: ...


class Ranker(Model, Protocol):
    def scores(self, items: np.ndarray, ratings: np.ndarray) -> np.ndarray:
        """A score per movie of the index (higher ranks first) for the user who gave
        ``ratings`` to the movie indices ``items``; rated movies are not excluded here."""
        ...


class RatingPredictor(Model, Protocol):
    @property
    def known(self) -> np.ndarray:
        """Boolean mask of the movies with training ratings."""
        ...

    def predict(self, items: np.ndarray, ratings: np.ndarray, targets: np.ndarray) -> np.ndarray:
        """Ratings in the scale for the movie indices ``targets``, for the user who gave
        ``ratings`` to the movie indices ``items``."""
        ...


def clip_to_scale(estimates: np.ndarray) -> np.ndarray:
    """Estimates clipped to the rating scale: what a :class:`RatingPredictor` promises."""
    clipped: np.ndarray = np.clip(estimates, *RATING_SCALE.bounds)
    return clipped


# Time effects work in whole days (UTC): a rating's day is its Unix time // DAY_SECONDS.
DAY_SECONDS = 86_400


def days_of(seconds: npt.ArrayLike) -> np.ndarray:
    """Day numbers (days since 1970-01-01 UTC) of Unix times in seconds."""
    days: np.ndarray = np.asarray(seconds, dtype=np.int64) // DAY_SECONDS
    return days


@runtime_checkable
class TimeAware(Protocol):
    """A rating predictor whose estimates depend on when the user rated and when it predicts.

    ``predict`` (the :class:`RatingPredictor` method) takes every rating and every prediction as
    of one day; the serving object calls this instead whenever it knows the days.
    """

    def predict_at(
        self,
        items: np.ndarray,
        ratings: np.ndarray,
        days: np.ndarray,
        targets: np.ndarray,
        target_days: np.ndarray,
    ) -> np.ndarray:
        """Ratings in the scale for the movie indices ``targets``, each as of its entry of
        ``target_days``, for the user who gave ``ratings`` to ``items`` on ``days``."""
        ...


@runtime_checkable
class PredictsStored(Protocol):
    """A rating predictor that predicts every user's own ratings in one batch (the training
    RMSE ``movierec train`` records), as ``predict`` would user by user."""

    def predict_stored(self, matrix: sparse.csr_matrix) -> np.ndarray:
        """Each stored rating of a users x movie-index matrix predicted (in ``matrix.data``'s
        order), its user folded in from their whole row."""
        ...


@runtime_checkable
class NeighbourLists(Protocol):
    """A model that keeps each movie's most similar movies (``similar`` lists them first)."""

    def neighbour_lists(self) -> np.ndarray:
        """Movies x listed movie indices, best first, padded with ``n_movies``."""
        ...


@runtime_checkable
class Explainable(Protocol):
    """A ranker whose score is a sum over the user's rated movies (``explain`` shows the terms)."""

    def contributions(
        self, items: np.ndarray, ratings: np.ndarray, targets: np.ndarray
    ) -> np.ndarray:
        """Rated movies x ``targets``: each rated movie's term in each target's score; every
        column sums to that target's entry of ``scores``."""
        ...


@runtime_checkable
class ItemVectors(Protocol):
    """A model with a vector per movie (``similar`` fills its lists by their cosine)."""

    def item_vectors(self) -> np.ndarray: ...


class StoredArrays:
    """One model's arrays read back under its prefix, each checked against what it declares.

    Dimensions are named (``"movies"``, ``"factors"``) or fixed numbers; a name takes its size
    from the first array that uses it, and every later array must agree.
    """

    def __init__(self, arrays: Mapping[str, np.ndarray], prefix: str) -> None:
        self._arrays = arrays
        self._prefix = prefix
        self.sizes: dict[str, int] = {}

    def get(self, name: str, dtype: type[np.generic], dims: tuple[str | int, ...]) -> np.ndarray:
        key = self._prefix + name
        if key not in self._arrays:
            raise ArtifactError(f"incomplete artifact (missing array {key!r})")
        array = self._arrays[key]
        if array.dtype != np.dtype(dtype):
            raise ArtifactError(f"array {key!r} is {array.dtype}, expected {np.dtype(dtype)}")
        if array.ndim != len(dims):
            raise ArtifactError(
                f"array {key!r} has shape {array.shape}, expected {len(dims)} dimension(s)"
            )
        for dim, size in zip(dims, array.shape, strict=True):
            expected = dim if isinstance(dim, int) else self.sizes.setdefault(dim, size)
            if size != expected:
                raise ArtifactError(
                    f"array {key!r} has shape {array.shape}: {size} {dim} where {expected} "
                    "were expected"
                )
        if array.dtype.kind == "f" and not np.isfinite(array).all():
            raise ArtifactError(f"array {key!r} holds NaN or infinite values")
        return array


def meta_value(meta: Any, key: str) -> Any:
    """``meta[key]``, refusing meta that is not a JSON object or lacks the key."""
    if not isinstance(meta, Mapping):
        raise ArtifactError(f"model meta is {type(meta).__name__}, expected a JSON object")
    if key not in meta:
        raise ArtifactError(f"incomplete artifact (missing {key!r})")
    return meta[key]


def meta_number(meta: Any, key: str) -> float:
    return float(_typed(float, meta_value(meta, key), key))


def meta_int(meta: Any, key: str) -> int:
    return int(_typed(int, meta_value(meta, key), key))


P = TypeVar("P")


def meta_params(cls: type[P], meta: Any, key: str = "params") -> P:
    """A params dataclass from its ``dataclasses.asdict`` form as read back from JSON."""
    return _params(cls, meta_value(meta, key), key)


def _params(cls: type[P], value: Any, key: str) -> P:
    if not isinstance(value, Mapping):
        raise ArtifactError(f"meta {key!r} is {type(value).__name__}, expected a JSON object")
    if not dataclasses.is_dataclass(cls):
        raise TypeError(f"{cls!r} is not a params dataclass")
    hints = typing.get_type_hints(cls)
    names = [field.name for field in dataclasses.fields(cls)]
    if sorted(value) != sorted(names):
        raise ArtifactError(f"meta {key!r} has fields {sorted(value)}, expected {sorted(names)}")
    return cls(**{name: _typed(hints[name], value[name], f"{key}.{name}") for name in names})


def _typed(hint: Any, value: Any, key: str) -> Any:
    """``value`` as the annotated type, or ArtifactError; JSON turns tuples into lists."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if dataclasses.is_dataclass(hint):
        return _params(typing.cast(type[Any], hint), value, key)
    if origin in (types.UnionType, typing.Union) and type(None) in args:
        # An optional value: None as written, anything else as the other member(s).
        if value is None:
            return None
        (other,) = [arg for arg in args if arg is not type(None)]
        return _typed(other, value, key)
    if origin is Literal:
        if value not in args:
            raise ArtifactError(f"meta {key!r} is {value!r}, expected one of {list(args)}")
        return value
    if origin is tuple:
        if not isinstance(value, list | tuple):
            raise ArtifactError(f"meta {key!r} is {value!r}, expected a list")
        hints = args[:1] * len(value) if args[1:] == (Ellipsis,) else args
        if len(value) != len(hints):
            raise ArtifactError(f"meta {key!r} is {value!r}, expected {len(hints)} items")
        items = zip(hints, value, strict=True)
        return tuple(_typed(h, v, f"{key}[{i}]") for i, (h, v) in enumerate(items))
    if hint is float and isinstance(value, int | float) and not isinstance(value, bool):
        if not math.isfinite(value):
            raise ArtifactError(f"meta {key!r} is {value!r}, expected a finite number")
        return float(value)
    if hint is int and isinstance(value, int) and not isinstance(value, bool):
        return value
    if hint in (str, bool) and type(value) is hint:
        return value
    if hint in (float, int, str, bool):
        raise ArtifactError(f"meta {key!r} is {value!r}, expected {hint.__name__}")
    raise TypeError(f"meta_params cannot read {hint!r} ({key})")
