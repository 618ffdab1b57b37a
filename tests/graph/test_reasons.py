"""Movie.because: the viewer's rated movies behind a recommendation, batched per list.

The first test gives the recommender a scripted ``explain`` (a subclass) to pin what the API
does with an explanation; the others go through the served model's own ``Recommender.explain``,
whose arithmetic the recommender's tests check.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest
from sqlalchemy import Engine

from data.ratings import ratings_frame
from graph.services.bundle import Services
from graph.services.recommendations import REASONS
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


def test_the_served_models_reasons_are_rated_movies_arguing_for_it(gql: GraphQL) -> None:
    """Through ``Recommender.explain`` itself (PureSVD, whose score is a sum over the ratings)."""
    data = gql(QUERY, token=gql.login("user2"))["data"]
    rated = {e["node"]["movie"]["id"] for e in data["viewer"]["ratings"]["edges"]}
    recommended = data["recommendations"]
    assert any(movie["because"] for movie in recommended)
    for movie in recommended:
        reasons = movie["because"]
        assert len(reasons) <= REASONS
        shares = [reason["share"] for reason in reasons]
        assert all(share > 0 for share in shares)
        assert shares == sorted(shares, reverse=True)
        assert {reason["movie"]["id"] for reason in reasons} <= rated


def test_the_popularity_fallback_gives_no_reasons(
    gql: GraphQL, services: Services, store: Engine
) -> None:
    with store.connect() as conn:
        services.recommendations.recommender = Recommender.popularity(ratings_frame(conn))
    recommended = gql(QUERY, token=gql.login("user2"))["data"]["recommendations"]
    assert recommended
    assert all(movie["because"] == [] for movie in recommended)


def test_because_is_null_signed_out(gql: GraphQL) -> None:
    assert gql("{ movie(id: 1) { because { share } } }") == {"data": {"movie": {"because": None}}}
