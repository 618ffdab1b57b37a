"""Every registered model under the shared contract tests (tests/recommender/contract.py)."""

from __future__ import annotations

import json
import re
from dataclasses import replace

import numpy as np
import pytest

from recommender.artifact import ArtifactError
from recommender.models.als import ALSParams, ALSRating
from recommender.models.als_listed import ALSWithNeighbourLists
from recommender.models.blended import BlendedRating, BlendParams
from recommender.models.contract import Explainable
from recommender.models.mllib_als import MLlibALSParams, MLlibALSRating
from recommender.models.neighbours import ItemNeighbours, NeighbourParams
from recommender.models.popularity import Popularity, PopularityParams
from recommender.models.puresvd import PureSVD, PureSVDParams
from recommender.models.rating import RatingModel, SVDParams
from recommender.models.registry import RANKERS, RATING_PREDICTORS
from recommender.models.temporal import TemporalFactors, TemporalParams
from recommender.models.temporal_blend import TemporalBlend, TemporalBlendParams
from tests.recommender.contract import (
    ModelContract,
    RankerContract,
    RatingPredictorContract,
    tiny_data,
)

SVD = SVDParams(n_factors=4, n_epochs=10)
NEIGHBOURS = NeighbourParams(neighbours=5, stored=8)


class TestPureSVD(RankerContract):
    model_class = PureSVD

    @classmethod
    def make(cls, seed: int) -> PureSVD:
        return PureSVD(PureSVDParams(factors=5, beta=-0.1, shift=2.5), seed=seed)


class TestPopularityCount(RankerContract):
    model_class = Popularity

    @classmethod
    def make(cls, seed: int) -> Popularity:
        return Popularity(PopularityParams("count"))


class TestPopularityBayes(RankerContract):
    model_class = Popularity

    @classmethod
    def make(cls, seed: int) -> Popularity:
        return Popularity(PopularityParams("bayes", prior=5.0))


class TestSurpriseSVD(RatingPredictorContract):
    model_class = RatingModel
    randomised = True

    @classmethod
    def make(cls, seed: int) -> RatingModel:
        return RatingModel(SVD, seed=seed)


class TestALSRating(RatingPredictorContract):
    model_class = ALSRating
    randomised = True

    @classmethod
    def make(cls, seed: int) -> ALSRating:
        return ALSRating(ALSParams(factors=4, epochs=5), seed=seed)


# Every fit here needs the session; a mark, not a class-scoped fixture defined as an instance
# method, which pytest deprecates.
@pytest.mark.usefixtures("spark")
class TestMLlibALSRating(RatingPredictorContract):
    """Fitted on the test session's Spark (skipped, saying why, without pyspark or Java)."""

    model_class = MLlibALSRating
    randomised = True

    @classmethod
    def make(cls, seed: int) -> MLlibALSRating:
        # One ALS fit per fit: the validation search is tests/spark/test_training.py's.
        params = MLlibALSParams(
            rank=4,
            max_iter=5,
            reg_param_alternatives=(),
            fold_in_bias_regs=(5.0,),
            fold_in_factor_regs=(15.0,),
        )
        return MLlibALSRating(params, seed=seed)


class TestItemNeighbours(RatingPredictorContract):
    model_class = ItemNeighbours

    @classmethod
    def make(cls, seed: int) -> ItemNeighbours:
        return ItemNeighbours(NEIGHBOURS)


class TestCappedItemNeighbours(RatingPredictorContract):
    """The tiny data have 15 ratings per user: a cap of 6 binds for every user."""

    model_class = ItemNeighbours
    randomised = True

    @classmethod
    def make(cls, seed: int) -> ItemNeighbours:
        return ItemNeighbours(replace(NEIGHBOURS, max_user_ratings=6), seed=seed)


class TestALSWithNeighbourLists(RatingPredictorContract):
    model_class = ALSWithNeighbourLists
    randomised = True

    @classmethod
    def make(cls, seed: int) -> ALSWithNeighbourLists:
        capped = ItemNeighbours(replace(NEIGHBOURS, max_user_ratings=6))
        return ALSWithNeighbourLists(ALSParams(factors=4, epochs=5), seed=seed, neighbours=capped)

    def test_the_neighbour_lists_take_the_seed(self, fitted: ALSWithNeighbourLists) -> None:
        assert fitted.neighbours.seed == fitted.seed == 1
        again = TestCappedItemNeighbours.make(1).fit(tiny_data())
        np.testing.assert_array_equal(fitted.neighbour_lists(), again.neighbour_index)


class TestBlendedRating(RatingPredictorContract):
    model_class = BlendedRating
    randomised = True

    @classmethod
    def make(cls, seed: int) -> BlendedRating:
        params = BlendParams(neighbours=NEIGHBOURS, bias_regs=(1.0, 5.0), factor_regs=(1.0, 10.0))
        return BlendedRating(SVD, params, seed=seed)

    def test_the_tiny_data_exercise_the_validation_carve(self, fitted: BlendedRating) -> None:
        assert "chosen" in fitted.validation


TEMPORAL = TemporalParams(factors=3, epochs=4, bins=4)


class TestTemporalFactors(RatingPredictorContract):
    model_class = TemporalFactors
    randomised = True

    @classmethod
    def make(cls, seed: int) -> TemporalFactors:
        return TemporalFactors(TEMPORAL, seed=seed)


class TestTemporalBlend(RatingPredictorContract):
    model_class = TemporalBlend
    randomised = True

    @classmethod
    def make(cls, seed: int) -> TemporalBlend:
        params = TemporalBlendParams(
            temporal=TEMPORAL,
            neighbours=NEIGHBOURS,
            day_regs=(1.0, 10.0),
            factor_regs=(2.0,),
            neighbour_counts=(2, 5),
        )
        return TemporalBlend(params, seed=seed)

    def test_the_tiny_data_exercise_the_validation_carve(self, fitted: TemporalBlend) -> None:
        chosen = fitted.validation["chosen"]
        assert len(fitted.validation["grid"]) == 4
        # The refit trains with the chosen user penalties: the fold-in is its user step.
        assert fitted.temporal.params.user_day_reg == chosen["day_reg"]
        assert fitted.temporal.params.user_factor_reg == chosen["factor_reg"]
        assert fitted.neighbours.params.neighbours == chosen["neighbours"]
        np.testing.assert_array_equal(fitted.weights, chosen["weights"])


def test_every_registered_model_is_under_the_contract_tests() -> None:
    classes = [value for value in globals().values() if isinstance(value, type)]
    tested = {
        cls.model_class
        for cls in classes
        if issubclass(cls, ModelContract) and hasattr(cls, "model_class")
    }
    assert set(RANKERS.values()) | set(RATING_PREDICTORS.values()) <= tested


PURESVD = {"factors": 5, "beta": 0.0, "shift": 2.0, "shrinkage": 10.0}


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({**PURESVD, "factors": "5"}, "'params.factors' is '5', expected int"),
        ({**PURESVD, "factors": 5.0}, "'params.factors' is 5.0, expected int"),
        ({**PURESVD, "beta": True}, "'params.beta' is True, expected float"),
        ({"factors": 5, "beta": 0.0}, "has fields"),
        ({**PURESVD, "extra": 1}, "has fields"),
    ],
)
def test_hyper_parameters_of_the_wrong_type_are_refused(params: dict[str, object], error: str):
    stored = TestPureSVD.make(1).fit(tiny_data()).to_arrays("")
    with pytest.raises(ArtifactError, match=re.escape(error)):
        PureSVD.from_arrays(stored.arrays, {**stored.meta, "params": params}, "")


def test_nested_and_literal_hyper_parameters_are_checked():
    blend = TestBlendedRating.make(1).fit(tiny_data()).to_arrays("")
    params = json.loads(json.dumps(blend.meta["params"]))
    params["neighbours"]["stored"] = "all"
    with pytest.raises(ArtifactError, match=re.escape("'params.neighbours.stored' is 'all'")):
        BlendedRating.from_arrays(blend.arrays, {**blend.meta, "params": params}, "")
    params["neighbours"]["stored"], params["bias_regs"] = 8, [1.0, "x"]
    with pytest.raises(ArtifactError, match=re.escape("'params.bias_regs[1]' is 'x'")):
        BlendedRating.from_arrays(blend.arrays, {**blend.meta, "params": params}, "")
    popularity = TestPopularityBayes.make(1).fit(tiny_data()).to_arrays("")
    meta = {"params": {"method": "median", "prior": 5.0}}
    with pytest.raises(ArtifactError, match=re.escape("expected one of ['count', 'bayes']")):
        Popularity.from_arrays(popularity.arrays, meta, "")


def test_an_explainable_rankers_contributions_add_up_to_its_scores():
    data = tiny_data()
    model = TestPureSVD.make(1).fit(data)
    assert isinstance(model, Explainable)
    items, ratings = data.interactions.user_row(4)
    targets = np.arange(model.n_movies)
    parts = model.contributions(items, ratings, targets)
    assert parts.shape == (len(items), model.n_movies)
    np.testing.assert_allclose(parts.sum(axis=0), model.scores(items, ratings), atol=1e-5)
