"""``movierec train`` and ``movierec evaluate``: store to frames to artifact and report."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import Engine, insert

from data.db import open_store
from data.schema import movies, ratings, users
from movierec.commands.training import run_evaluate, run_train
from movierec.settings import Settings
from recommender.models.puresvd import PureSVDParams
from recommender.serving import Recommender, UserRatings
from recommender.training import ServedConfig, fit_recommender, rating_hyper_parameters
from tests.recommender.synthetic import synthetic_ratings

FRAME = synthetic_ratings(n_users=30, n_movies=40, per_user=15, seed=4)


@pytest.fixture
def settings(tmp_path: Path, store_url: str) -> Settings:
    return Settings(data_dir=tmp_path, database_url=store_url)


@pytest.fixture
def filled(engine: Engine) -> Engine:
    movie_ids = sorted({*FRAME["movie_id"].tolist(), 9_999})
    with engine.begin() as conn:
        conn.execute(
            insert(movies),
            [{"id": m, "title": f"M{m}", "movielens_title": f"M{m}"} for m in movie_ids],
        )
        conn.execute(
            insert(users),
            [
                {"id": u, "username": f"u{u}", "password_hash": "x"}
                for u in FRAME["user_id"].unique().tolist()
            ],
        )
        conn.execute(
            insert(ratings),
            [
                {"user_id": int(u), "movie_id": int(m), "rating": float(r), "rated_at": int(t)}
                for u, m, r, t in FRAME.itertuples(index=False)
            ],
        )
    return engine


def test_train_then_serve_gives_the_evaluated_models_top_10(
    filled: Engine, settings: Settings, caplog: pytest.LogCaptureFixture
):
    with caplog.at_level("INFO"):
        assert run_train(settings, seed=5) == 0
    # One line says where the time went, phase by phase.
    phases = next(r.getMessage() for r in caplog.records if r.getMessage().startswith("trained"))
    for phase in ("read", "fit", "training RMSE", "fingerprints", "save"):
        assert f"{phase} " in phases
    catalog = np.array(sorted({*FRAME["movie_id"].tolist(), 9_999}))
    served = Recommender.load(settings.resolved_models_dir, catalog_movie_ids=catalog)
    fitted = fit_recommender(FRAME, ServedConfig(), seed=5, catalog_movie_ids=catalog)
    for user_id in (1, 12):
        user = UserRatings.from_frame(FRAME[FRAME["user_id"] == user_id])
        assert served.top_n(user, 10) == fitted.top_n(user, 10)
        wanted = np.array([9_999, *FRAME["movie_id"].unique()[:5]])
        # As of one fixed time: the time-aware rating model's day terms depend on it.
        at = int(FRAME["timestamp"].max())
        np.testing.assert_array_equal(
            served.predict(user, wanted, at=at), fitted.predict(user, wanted, at=at)
        )
    assert served.rating.name == "temporal-knn-blend"
    meta = served.meta
    assert meta["data"]["ratings"] == len(FRAME)
    assert meta["hyper_parameters"]["ranker"] == vars(PureSVDParams())
    fitted_with = rating_hyper_parameters(ServedConfig(), len(FRAME))
    assert meta["hyper_parameters"]["rating"] == json.loads(json.dumps(fitted_with))
    assert meta["metrics"]["training_rmse"] > 0


@pytest.mark.parametrize("store", ["sqlite", "postgresql"])
def test_train_on_an_empty_store_fails_with_a_message(
    store: str, request: pytest.FixtureRequest, tmp_path: Path, caplog: pytest.LogCaptureFixture
):
    url = request.getfixturevalue("store_url" if store == "sqlite" else "postgres_url")
    open_store(url, create=True).dispose()
    assert run_train(Settings(data_dir=tmp_path, database_url=url), seed=1) == 1
    assert "the store holds no ratings; run `movierec etl` first" in caplog.text
    assert not (tmp_path / "models").exists()


def test_evaluate_writes_markdown_and_json(
    filled: Engine, settings: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    out = tmp_path / "evaluation"
    assert run_evaluate(settings, out=out, seed=3, quick=True) == 0
    results = json.loads((out / "evaluation.json").read_text())
    assert results["seed"] == 3
    assert "NDCG@10" in (out / "evaluation.md").read_text()
    assert "movierec evaluate --seed 3 --quick" in capsys.readouterr().out


def test_train_on_ratings_the_models_cannot_fit_fails_with_a_message(
    engine: Engine, settings: Settings, caplog: pytest.LogCaptureFixture
):
    with engine.begin() as conn:
        conn.execute(insert(movies), [{"id": 1, "title": "M", "movielens_title": "M"}])
        conn.execute(insert(users), [{"id": 1, "username": "u1", "password_hash": "x"}])
        conn.execute(insert(ratings), [{"user_id": 1, "movie_id": 1, "rating": 4.0, "rated_at": 1}])
    assert run_train(settings, seed=1) == 1
    assert "cannot fit the models on the store's 1 ratings: PureSVD needs" in caplog.text


def test_evaluate_into_a_file_fails_with_a_message_naming_it(
    filled: Engine, settings: Settings, tmp_path: Path, caplog: pytest.LogCaptureFixture
):
    out = tmp_path / "taken"
    out.write_text("not a folder")
    assert run_evaluate(settings, out=out, seed=3, quick=True) == 1
    assert str(out) in caplog.text


def test_the_recorded_rating_parameters_are_those_of_the_model_fitted_at_that_size() -> None:
    config = ServedConfig(scale_threshold=100)
    below = rating_hyper_parameters(config, 100)
    above = rating_hyper_parameters(config, 101)
    assert below == asdict(config.rating)
    assert above == {
        "als": asdict(config.als),
        "neighbours": {**asdict(config.scale_neighbours), "max_user_ratings": 500},
    }
    assert not config.at_scale(100)
    assert config.at_scale(101)
