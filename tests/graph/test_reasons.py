"""Movie.because: the viewer's rated movies behind a recommendation, batched per list.

The recommender on this branch has no ``explain`` yet (it comes with the models' work), so the
tests give one to a subclass: what the API does with an explanation is tested here, the
explanation's arithmetic in the recommender's own tests.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from graph.services.bundle import Services
from graph.services.recommendations import REASONS, Explains
from recommender.serving import Recommender, UserRatings
from tests.graph.conftest import GraphQL

QUERY = """{ viewer { ratings(first: 100) { edges { node { rating movie { id } } } } }
  recommendations(first: 5) { id predictedRating
    because { rating share movie { id displayTitle } } } }"""


@dataclass(frozen=True)
class Part:
    movie_id: int
    rating: float
    contribution: float
    share: float


@dataclass(frozen=True)
class Why:
    movie_id: int
    score: float
    because: list[Part]


class ExplainingRecommender(Recommender):
    """Explains each movie by the user's first three ratings, with shares 0.5, -0.2 and 0.3:
    sorted by contribution as the model does, the third listed argues against the movie."""

    calls: list[list[int]]

    def explain(
        self, user: UserRatings, movie_ids: np.ndarray, *, top: int | None = 3
    ) -> list[Why]:
        self.calls.append([int(m) for m in movie_ids])
        shares = [0.5, -0.2, 0.3]
        parts = [
            Part(int(m), float(r), share, share)
            for m, r, share in zip(user.movie_ids, user.ratings, shares, strict=False)
        ]
        parts.sort(key=lambda part: -part.contribution)
        return [Why(int(movie_id), 1.0, parts[:top]) for movie_id in movie_ids]


@pytest.fixture
def explaining(recommender: Recommender) -> ExplainingRecommender:
    model = ExplainingRecommender(
        movie_ids=recommender.movie_ids,
        ranker=recommender.ranker,
        rating=recommender.rating,
        cold_start=recommender.cold_start,
        algorithm=recommender.algorithm,
    )
    model.calls = []
    return model


def test_reasons_are_the_viewers_rated_movies_that_argue_for_it(
    explaining: ExplainingRecommender, services: Services, gql: GraphQL
) -> None:
    assert isinstance(explaining, Explains)
    services.recommendations.recommender = explaining
    data = gql(QUERY, token=gql.login("user2"))["data"]
    rated = {
        e["node"]["movie"]["id"]: e["node"]["rating"] for e in data["viewer"]["ratings"]["edges"]
    }
    recommended = data["recommendations"]
    assert len(recommended) == 5
    assert explaining.calls == [[movie["id"] for movie in recommended]]  # one call per list
    for movie in recommended:
        assert movie["predictedRating"] is not None
        reasons = movie["because"]
        # The top three by contribution, the one against (-0.2) left out.
        assert [reason["share"] for reason in reasons] == [0.5, 0.3]
        assert len(reasons) < REASONS
        for reason in reasons:
            assert rated[reason["movie"]["id"]] == reason["rating"]
            assert reason["movie"]["displayTitle"].startswith("Film ")


def test_a_recommender_without_explain_gives_no_reasons(gql: GraphQL) -> None:
    recommended = gql(QUERY, token=gql.login("user2"))["data"]["recommendations"]
    assert recommended
    assert all(movie["because"] == [] for movie in recommended)


def test_because_is_null_signed_out(gql: GraphQL) -> None:
    assert gql("{ movie(id: 1) { because { share } } }") == {"data": {"movie": {"because": None}}}
