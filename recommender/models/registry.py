"""Every model an artifact may name, by the name it records in ``meta.json``.

An artifact says which registered class fills each role of the serving object; loading looks the
name up here, so an artifact can only ever build the classes listed below. Adding a model is its
own module plus one entry in one of these tuples (see docs/models.md); mypy
checks that the class meets the protocol of its tuple.
"""

from __future__ import annotations

from typing import TypeVar

from recommender.models.als import ALSRating
from recommender.models.als_listed import ALSWithNeighbourLists
from recommender.models.blended import BlendedRating
from recommender.models.contract import Model, Ranker, RatingPredictor
from recommender.models.mllib_als import MLlibALSRating
from recommender.models.neighbours import ItemNeighbours
from recommender.models.popularity import Popularity
from recommender.models.puresvd import PureSVD
from recommender.models.rating import RatingModel
from recommender.models.temporal import TemporalFactors
from recommender.models.temporal_blend import TemporalBlend

M = TypeVar("M", bound=Model)


def _by_name(*classes: type[M]) -> dict[str, type[M]]:
    names = [cls.name for cls in classes]
    if len(set(names)) != len(names):
        raise ValueError(f"two models share a name: {names}")
    return dict(zip(names, classes, strict=True))


RANKERS: dict[str, type[Ranker]] = _by_name(PureSVD, Popularity)
RATING_PREDICTORS: dict[str, type[RatingPredictor]] = _by_name(
    TemporalBlend,
    TemporalFactors,
    BlendedRating,
    RatingModel,
    ItemNeighbours,
    ALSRating,
    ALSWithNeighbourLists,
    MLlibALSRating,
)
