"""Explanations: the rated movies behind each recommended movie's score, and their shares."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from recommender.models.puresvd import PureSVD, PureSVDParams
from recommender.serving import Recommender, UserRatings
from recommender.training import fit_recommender
from tests.recommender.conftest import SMALL

SHRUNK = replace(SMALL, ranker=PureSVDParams(factors=8, beta=0.1, shift=2.5, shrinkage=30.0))


@pytest.fixture(scope="module")
def shrunk(ratings: pd.DataFrame) -> Recommender:
    return fit_recommender(ratings, SHRUNK, seed=7)


def user_of(ratings: pd.DataFrame, user_id: int) -> UserRatings:
    return UserRatings.from_frame(ratings[ratings["user_id"] == user_id])


@pytest.mark.parametrize("user_id", [3, 17, 42])
def test_the_contributions_add_up_to_the_served_score(
    shrunk: Recommender, ratings: pd.DataFrame, user_id: int
):
    user = user_of(ratings, user_id)
    top = shrunk.top_n(user, 10)
    explained = shrunk.explain(user, np.array([movie for movie, _ in top]), top=None)
    assert [e.movie_id for e in explained] == [movie for movie, _ in top]
    for explanation, (_, score) in zip(explained, top, strict=True):
        parts = [c.contribution for c in explanation.because]
        assert len(parts) == len(user.movie_ids)
        assert sum(parts) == pytest.approx(score, rel=1e-4, abs=1e-5)
        assert explanation.score == pytest.approx(score, rel=1e-4, abs=1e-5)
        assert sum(c.share for c in explanation.because) == pytest.approx(1.0)
        assert parts == sorted(parts, reverse=True)


def test_the_top_contributors_are_the_largest_terms_of_the_score(
    shrunk: Recommender, ratings: pd.DataFrame
):
    """Checked against the formula: score_j = sum_i w_i (r_i - shift) <F_i, F_j>."""
    user = user_of(ratings, 5)
    movie = shrunk.top_n(user, 1)[0][0]
    (explanation,) = shrunk.explain(user, np.array([movie]), top=3)
    ranker = shrunk.ranker
    assert isinstance(ranker, PureSVD)
    items = np.searchsorted(shrunk.movie_ids, user.movie_ids)
    target = np.searchsorted(shrunk.movie_ids, movie)
    weights = (user.ratings - ranker.params.shift) * ranker.column_weights[items]
    terms = weights * (ranker.item_factors[items] @ ranker.item_factors[target])
    best = np.argsort(-terms, kind="stable")[:3]
    assert [c.movie_id for c in explanation.because] == user.movie_ids[best].tolist()
    assert [c.rating for c in explanation.because] == user.ratings[best].tolist()
    np.testing.assert_allclose(
        [c.contribution for c in explanation.because], terms[best], rtol=1e-4
    )
    np.testing.assert_allclose(
        [c.share for c in explanation.because], terms[best] / terms.sum(), rtol=1e-3
    )


def test_a_new_rating_shows_up_in_the_explanation_at_once(
    shrunk: Recommender, ratings: pd.DataFrame
):
    user = user_of(ratings, 3)
    movie = shrunk.top_n(user, 1)[0][0]
    neighbour = next(m for m in shrunk.similar(movie, 20) if m not in user.movie_ids)
    rated = UserRatings(
        np.append(user.movie_ids, neighbour), np.append(user.ratings, np.float32(5.0))
    )
    because = shrunk.explain(rated, np.array([movie]), top=None)[0].because
    assert neighbour in [c.movie_id for c in because]


def test_unknown_movies_are_left_out_and_a_cold_user_gets_popularity(
    shrunk: Recommender, ratings: pd.DataFrame
):
    user = user_of(ratings, 3)
    known = int(shrunk.top_n(user, 1)[0][0])
    assert [e.movie_id for e in shrunk.explain(user, np.array([999_999, known]))] == [known]
    (cold,) = shrunk.explain(UserRatings.empty(), np.array([known]))
    assert cold.because == []
    popularity = shrunk.cold_start.scores(np.empty(0, np.int64), np.empty(0, np.float32))
    assert cold.score == pytest.approx(float(popularity[shrunk.movie_ids == known][0]))


def test_a_top_below_one_is_refused(shrunk: Recommender, ratings: pd.DataFrame):
    with pytest.raises(ValueError, match="top must be at least 1"):
        shrunk.explain(user_of(ratings, 3), np.array([1]), top=0)


def test_the_fallback_explains_nothing(ratings: pd.DataFrame):
    fallback = Recommender.popularity(ratings)
    movie = int(fallback.movie_ids[0])
    (explanation,) = fallback.explain(user_of(ratings, 3), np.array([movie]))
    assert explanation.because == []
