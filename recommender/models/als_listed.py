"""ALS ratings with item-neighbour lists beside them: the rating role served above the size
threshold.

Similar movies read the neighbour lists first (:meth:`Recommender.similar`); on ml-latest-small
they score about twice the NDCG of cosine on the ranker's item factors (the README's "Scale"
section). Above the threshold the lists come from the bounded neighbour fit
(``NeighbourParams.max_user_ratings``), so they cost time linear in the ratings and not in the
square of the heaviest users' counts. Predictions are ALS's alone: the neighbour term is not
blended in at this size, so no validation carve (a second ALS fit) is needed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar

import numpy as np

from recommender.artifact import ArtifactError
from recommender.dataset import TrainingData
from recommender.models.als import ALSRating
from recommender.models.contract import Stored, meta_value
from recommender.models.neighbours import ItemNeighbours

NEIGHBOURS = "neighbours."


@dataclass(frozen=True)
class ALSWithNeighbourLists(ALSRating):
    """:class:`ALSRating` plus an :class:`ItemNeighbours` fitted on the same data, whose lists
    serve similar movies; both take the seed."""

    name: ClassVar[str] = "als-biased+neighbour-lists"

    neighbours: ItemNeighbours = field(default_factory=ItemNeighbours)

    def fit(self, data: TrainingData) -> ALSWithNeighbourLists:
        neighbours = replace(self.neighbours, seed=self.seed).fit(data)
        return replace(super().fit(data), neighbours=neighbours)

    def neighbour_lists(self) -> np.ndarray:
        return self.neighbours.neighbour_index

    def to_arrays(self, prefix: str) -> Stored:
        als = super().to_arrays(prefix)
        neighbours = self.neighbours.to_arrays(f"{prefix}{NEIGHBOURS}")
        meta = {**als.meta, "neighbours": neighbours.meta}
        return Stored({**als.arrays, **neighbours.arrays}, meta)

    @classmethod
    def from_arrays(
        cls, arrays: Mapping[str, np.ndarray], meta: Any, prefix: str
    ) -> ALSWithNeighbourLists:
        als = super().from_arrays(arrays, meta, prefix)
        neighbours = ItemNeighbours.from_arrays(
            arrays, meta_value(meta, "neighbours"), f"{prefix}{NEIGHBOURS}"
        )
        if neighbours.n_movies != als.n_movies:
            raise ArtifactError("ALS and its neighbour lists disagree on the number of movies")
        return replace(als, neighbours=neighbours)
