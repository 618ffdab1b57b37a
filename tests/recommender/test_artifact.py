from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from recommender.artifact import FORMAT_VERSION, LATEST, ArtifactError, catalog_fingerprint
from recommender.serving import Recommender, UserRatings

CATALOG = np.arange(1, 1000, dtype=np.int64)


def saved(model: Recommender, tmp_path: Path) -> Path:
    return model.save(tmp_path, {"catalog_fingerprint": catalog_fingerprint(CATALOG)})


def test_a_loaded_artifact_serves_exactly_what_was_saved(
    model: Recommender, ratings: pd.DataFrame, tmp_path: Path
):
    saved(model, tmp_path)
    loaded = Recommender.load(tmp_path, catalog_movie_ids=CATALOG[::-1])
    user = UserRatings.from_frame(ratings[ratings["user_id"] == 9])
    assert (loaded.kind, loaded.algorithm) == ("model", model.algorithm)
    assert loaded.top_n(user, 10) == model.top_n(user, 10)
    np.testing.assert_array_equal(
        loaded.predict(user, model.movie_ids), model.predict(user, model.movie_ids)
    )
    assert loaded.similar(int(model.movie_ids[3])) == model.similar(int(model.movie_ids[3]))


def test_the_artifact_holds_no_pickles(model: Recommender, tmp_path: Path):
    folder = saved(model, tmp_path)
    with np.load(folder / "arrays.npz", allow_pickle=False) as arrays:
        assert all(arrays[name].dtype != object for name in arrays.files)
    assert json.loads((folder / "meta.json").read_text())["format_version"] == FORMAT_VERSION


def test_missing_artifact_is_a_clear_error(tmp_path: Path):
    with pytest.raises(ArtifactError, match=r"no model artifact.*movierec train"):
        Recommender.load(tmp_path, catalog_movie_ids=CATALOG)


def test_corrupt_arrays_are_detected(model: Recommender, tmp_path: Path):
    folder = saved(model, tmp_path)
    data = bytearray((folder / "arrays.npz").read_bytes())
    data[len(data) // 2] ^= 0xFF
    (folder / "arrays.npz").write_bytes(bytes(data))
    with pytest.raises(ArtifactError, match="corrupt"):
        Recommender.load(tmp_path, catalog_movie_ids=CATALOG)


def test_unreadable_metadata_is_detected(model: Recommender, tmp_path: Path):
    folder = saved(model, tmp_path)
    (folder / "meta.json").write_text("{not json")
    with pytest.raises(ArtifactError, match="unreadable"):
        Recommender.load(tmp_path, catalog_movie_ids=CATALOG)


def test_metadata_without_the_algorithm_is_an_incomplete_artifact(
    model: Recommender, tmp_path: Path
):
    folder = saved(model, tmp_path)
    meta = json.loads((folder / "meta.json").read_text())
    del meta["algorithm"]
    (folder / "meta.json").write_text(json.dumps(meta))
    with pytest.raises(ArtifactError, match=r"incomplete artifact \(missing 'algorithm'\)"):
        Recommender.load(tmp_path, catalog_movie_ids=CATALOG)


def test_an_unreadable_latest_pointer_is_detected(model: Recommender, tmp_path: Path):
    saved(model, tmp_path)
    (tmp_path / LATEST).write_bytes(b"\xff\xfe not text")
    with pytest.raises(ArtifactError, match="LATEST: unreadable"):
        Recommender.load(tmp_path, catalog_movie_ids=CATALOG)


def test_another_format_version_is_refused(model: Recommender, tmp_path: Path):
    folder = saved(model, tmp_path)
    meta = json.loads((folder / "meta.json").read_text())
    (folder / "meta.json").write_text(json.dumps({**meta, "format_version": 99}))
    with pytest.raises(ArtifactError, match="format version 99"):
        Recommender.load(tmp_path, catalog_movie_ids=CATALOG)


def test_a_model_for_another_catalog_is_refused(model: Recommender, tmp_path: Path):
    saved(model, tmp_path)
    with pytest.raises(ArtifactError, match="another movie catalog"):
        Recommender.load(tmp_path, catalog_movie_ids=CATALOG[:-1])


def test_latest_points_at_the_newest_version(model: Recommender, tmp_path: Path):
    saved(model, tmp_path)
    second = saved(model, tmp_path)
    assert (tmp_path / LATEST).read_text().strip() == second.name
