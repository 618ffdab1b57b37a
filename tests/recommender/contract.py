"""The tests every model inherits: the contract of recommender.models.contract, checked once.

A model's test class inherits :class:`RankerContract` or :class:`RatingPredictorContract`, names
its ``model_class`` and builds an unfitted estimator in ``make(seed)``; it then gets, on tiny
data whose movie index also holds catalog movies nobody rated: fitting, the save/load
round trip (through a real ``.npz`` without pickles and JSON meta), seeds, refusal of damaged
arrays and meta, and the handling of movies without training ratings.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pytest

from data.domain import RATING_SCALE
from recommender.artifact import ArtifactError
from recommender.dataset import TrainingData
from recommender.models.contract import Model, Ranker, RatingPredictor
from tests.recommender.synthetic import synthetic_ratings

PREFIX = "role.part."
# Catalog movies nobody rated (the synthetic ids are 10 m + 1): in the index, never trained.
UNRATED = np.array([5, 7], dtype=np.int64)
USERS = (0, 7, 21)


def tiny_data() -> TrainingData:
    frame = synthetic_ratings(n_users=40, n_movies=30, per_user=15, seed=3)
    return TrainingData.from_frame(frame, np.union1d(frame["movie_id"], UNRATED))


class ModelContract:
    model_class: ClassVar[type[Model]]
    # Whether another seed gives another model; if not, outputs must agree to round-off.
    randomised: ClassVar[bool] = False

    @classmethod
    def make(cls, seed: int) -> Any:
        """An unfitted estimator; models without a random step ignore the seed."""
        raise NotImplementedError

    def outputs(self, model: Any, data: TrainingData) -> np.ndarray:
        raise NotImplementedError

    @pytest.fixture(scope="class")
    @classmethod
    def data(cls) -> TrainingData:
        return tiny_data()

    @pytest.fixture(scope="class")
    @classmethod
    def fitted(cls, data: TrainingData) -> Any:
        return cls.make(1).fit(data)

    def test_fit_covers_the_movie_index_and_leaves_the_estimator_as_it_was(
        self, data: TrainingData, fitted: Any
    ) -> None:
        estimator = self.make(1)
        assert isinstance(fitted, self.model_class)
        assert fitted.n_movies == len(data.movie_ids)
        assert estimator.fit(data) is not estimator
        assert estimator.n_movies == 0
        assert np.isfinite(self.outputs(fitted, data)).all()

    def test_a_save_load_round_trip_gives_equal_outputs(
        self, data: TrainingData, fitted: Any, tmp_path: Path
    ) -> None:
        stored = fitted.to_arrays(PREFIX)
        assert stored.arrays
        assert all(key.startswith(PREFIX) for key in stored.arrays)
        np.savez(tmp_path / "arrays.npz", **stored.arrays)
        with np.load(tmp_path / "arrays.npz", allow_pickle=False) as npz:
            arrays = {name: npz[name] for name in npz.files}
        meta = json.loads(json.dumps(stored.meta))
        loaded = self.model_class.from_arrays(arrays, meta, PREFIX)
        np.testing.assert_array_equal(self.outputs(loaded, data), self.outputs(fitted, data))
        again = loaded.to_arrays(PREFIX)
        assert json.loads(json.dumps(again.meta)) == meta
        for key, array in stored.arrays.items():
            assert again.arrays[key].dtype == array.dtype
            np.testing.assert_array_equal(again.arrays[key], array)

    def test_the_same_seed_reproduces_the_model(self, data: TrainingData, fitted: Any) -> None:
        again = self.make(1).fit(data)
        np.testing.assert_array_equal(self.outputs(again, data), self.outputs(fitted, data))
        for key, array in fitted.to_arrays("").arrays.items():
            np.testing.assert_array_equal(again.to_arrays("").arrays[key], array)

    def test_another_seed_changes_only_a_randomised_model(
        self, data: TrainingData, fitted: Any
    ) -> None:
        other = self.outputs(self.make(2).fit(data), data)
        same = np.allclose(other, self.outputs(fitted, data), rtol=1e-4, atol=1e-5)
        assert same is not self.randomised

    def test_damaged_arrays_are_refused(self, fitted: Any) -> None:
        stored = fitted.to_arrays(PREFIX)
        for key, array in stored.arrays.items():
            other_dtype = np.int8 if array.dtype.kind == "f" else np.float32
            damaged: dict[str, dict[str, np.ndarray]] = {
                "missing": {k: v for k, v in stored.arrays.items() if k != key},
                "dtype": {**stored.arrays, key: array.astype(other_dtype)},
                "shape": {**stored.arrays, key: array[..., np.newaxis]},
            }
            if array.dtype.kind == "f":
                with_nan = array.copy()
                with_nan.flat[with_nan.size // 2] = np.nan
                damaged["NaN"] = {**stored.arrays, key: with_nan}
            for arrays in damaged.values():
                with pytest.raises(ArtifactError, match=re.escape(repr(key))):
                    self.model_class.from_arrays(arrays, stored.meta, PREFIX)

    def test_damaged_meta_is_refused(self, fitted: Any) -> None:
        stored = fitted.to_arrays(PREFIX)
        with pytest.raises(ArtifactError, match="expected a JSON object"):
            self.model_class.from_arrays(stored.arrays, list(stored.meta), PREFIX)
        for key in stored.meta:
            without = {k: v for k, v in stored.meta.items() if k != key}
            with pytest.raises(ArtifactError, match=re.escape(f"missing '{key}'")):
                self.model_class.from_arrays(stored.arrays, without, PREFIX)
            with pytest.raises(ArtifactError):
                self.model_class.from_arrays(stored.arrays, {**stored.meta, key: "x"}, PREFIX)


class RankerContract(ModelContract):
    def outputs(self, model: Ranker, data: TrainingData) -> np.ndarray:
        """Scores for a few users, for one whose ratings include a movie nobody else rated,
        and for one without ratings."""
        rows = [data.interactions.user_row(user) for user in USERS]
        unrated = np.searchsorted(data.movie_ids, UNRATED)
        items, ratings = rows[0]
        rows.append((np.append(items, unrated), np.append(ratings, [4.0, 1.0]).astype(np.float32)))
        rows.append((np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float32)))
        scores = np.stack([model.scores(items, ratings) for items, ratings in rows])
        assert scores.shape == (len(rows), len(data.movie_ids))
        return scores


class RatingPredictorContract(ModelContract):
    def outputs(self, model: RatingPredictor, data: TrainingData) -> np.ndarray:
        """Predictions of every movie of the index (those nobody rated too) for a few users and
        for one without ratings, all in the rating scale."""
        rows = [data.interactions.user_row(user) for user in USERS]
        rows.append((np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float32)))
        targets = np.arange(len(data.movie_ids))
        predicted = np.stack([model.predict(items, ratings, targets) for items, ratings in rows])
        assert predicted.shape == (len(rows), len(targets))
        assert np.all((predicted >= RATING_SCALE.lowest) & (predicted <= RATING_SCALE.highest))
        return predicted

    def test_known_marks_the_movies_with_training_ratings(
        self, data: TrainingData, fitted: Any
    ) -> None:
        rated = np.diff(data.matrix.tocsc().indptr) > 0
        np.testing.assert_array_equal(fitted.known, rated)
        assert not rated[np.searchsorted(data.movie_ids, UNRATED)].any()
