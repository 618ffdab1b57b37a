"""A worker's check for a newly published model (the server runs it every few seconds)."""

from __future__ import annotations

import json
import logging

import numpy as np
import pytest
from sqlalchemy import Engine

from data.movies import catalog_movie_ids
from graph.config import AppConfig
from graph.services.bundle import Services
from recommender.artifact import catalog_fingerprint
from recommender.serving import Recommender


def _save(recommender: Recommender, store: Engine, config: AppConfig) -> str:
    with store.connect() as conn:
        catalog = np.array(catalog_movie_ids(conn), dtype=np.int64)
    meta = {"catalog_fingerprint": catalog_fingerprint(catalog)}
    return recommender.save(config.models_dir, meta).name


def test_a_new_artifact_is_served_and_a_broken_one_is_not(
    services: Services,
    store: Engine,
    config: AppConfig,
    recommender: Recommender,
    caplog: pytest.LogCaptureFixture,
) -> None:
    recommendations = services.recommendations
    assert recommendations.refresh() is False, "no artifact yet: the given model stays"
    assert recommendations.recommender is recommender

    first = _save(recommender, store, config)
    assert recommendations.refresh() is True
    assert recommendations.recommender.version == first
    assert recommendations.refresh() is False, "already serving it"

    broken = _save(recommender, store, config)
    meta_path = config.models_dir / broken / "meta.json"
    meta_path.write_text(json.dumps({**json.loads(meta_path.read_text()), "format_version": 2}))
    with caplog.at_level(logging.WARNING):
        assert recommendations.refresh() is False
        assert recommendations.refresh() is False
    assert recommendations.recommender.version == first
    assert caplog.text.count(f"kept model {first}") == 1, "a broken artifact is reported once"

    third = _save(recommender, store, config)
    assert recommendations.refresh() is True
    assert recommendations.recommender.version == third
