from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from recommender.artifact import (
    FORMAT_VERSION,
    LATEST,
    ArtifactError,
    catalog_fingerprint,
    latest_version,
    prune,
)
from recommender.models.popularity import Popularity
from recommender.serving import Recommender, UserRatings
from tests.recommender.conftest import SMALL

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
    assert latest_version(tmp_path) == second.name
    loaded = Recommender.load(tmp_path, catalog_movie_ids=CATALOG)
    assert loaded.version == loaded.meta["version"] == second.name


def test_pruning_keeps_the_newest_artifacts_and_the_latest(model: Recommender, tmp_path: Path):
    folders = [saved(model, tmp_path) for _ in range(4)]
    (tmp_path / "not-an-artifact").mkdir()
    assert prune(tmp_path, keep=2) == folders[:2]
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_dir()) == sorted(
        [folders[2].name, folders[3].name, "not-an-artifact"]
    )
    (tmp_path / LATEST).write_text(folders[2].name + "\n")  # rolled back by hand
    assert prune(tmp_path, keep=1) == []
    with pytest.raises(ValueError, match="keep at least 1"):
        prune(tmp_path, keep=0)


def test_no_latest_pointer_has_no_version(tmp_path: Path):
    assert latest_version(tmp_path) is None
    assert latest_version(tmp_path / "missing") is None


def rewrite(folder: Path, arrays: dict[str, np.ndarray], **meta_changes: object) -> None:
    """Replace an artifact's arrays (and meta entries) and re-sign it, as a tool writing a
    damaged or foreign artifact would: only the model checks can catch what follows."""
    np.savez(folder / "arrays.npz", **arrays)
    meta = json.loads((folder / "meta.json").read_text())
    digest = hashlib.sha256((folder / "arrays.npz").read_bytes()).hexdigest()
    meta.update(meta_changes, arrays_sha256=digest)
    (folder / "meta.json").write_text(json.dumps(meta))


def stored_arrays(folder: Path) -> dict[str, np.ndarray]:
    with np.load(folder / "arrays.npz", allow_pickle=False) as npz:
        return {name: npz[name] for name in npz.files}


def test_meta_names_the_registered_class_of_each_role(model: Recommender, tmp_path: Path):
    folder = saved(model, tmp_path)
    models = json.loads((folder / "meta.json").read_text())["models"]
    assert {role: entry["class"] for role, entry in models.items()} == {
        "ranker": "puresvd",
        "rating": "temporal-knn-blend",
        "cold_start": "popularity",
    }
    assert models["ranker"]["meta"]["params"] == {
        "factors": 5,
        "beta": 0.0,
        "shift": 2.0,
        "shrinkage": SMALL.ranker.shrinkage,
    }
    roles = {name.split(".")[0] for name in stored_arrays(folder)}
    assert roles == {"movie_ids", "ranker", "rating", "cold_start"}


def test_an_artifact_of_the_previous_format_is_refused(model: Recommender, tmp_path: Path):
    folder = saved(model, tmp_path)
    meta = json.loads((folder / "meta.json").read_text())
    (folder / "meta.json").write_text(json.dumps({**meta, "format_version": 2}))
    with pytest.raises(ArtifactError, match=r"format version 2, .* reads 3: run `movierec train`"):
        Recommender.load(tmp_path, catalog_movie_ids=CATALOG)


@pytest.mark.parametrize(
    ("role", "name"), [("ranker", "als"), ("ranker", "svd-knn-blend"), ("rating", "puresvd")]
)
def test_a_class_unknown_for_its_role_is_refused(
    model: Recommender, tmp_path: Path, role: str, name: str
):
    folder = saved(model, tmp_path)
    models = json.loads((folder / "meta.json").read_text())["models"]
    models[role]["class"] = name
    rewrite(folder, stored_arrays(folder), models=models)
    with pytest.raises(ArtifactError, match=f"unknown {role} model '{name}'"):
        Recommender.load(tmp_path, catalog_movie_ids=CATALOG)


def test_a_damaged_model_array_is_refused_by_name(model: Recommender, tmp_path: Path):
    folder = saved(model, tmp_path)
    arrays = stored_arrays(folder)
    arrays["rating.temporal.item_factors"][3, 1] = np.nan
    rewrite(folder, arrays)
    with pytest.raises(ArtifactError, match=r"'rating\.temporal\.item_factors' holds NaN"):
        Recommender.load(tmp_path, catalog_movie_ids=CATALOG)


def test_roles_over_different_movie_counts_are_refused(model: Recommender, tmp_path: Path):
    folder = saved(model, tmp_path)
    arrays = stored_arrays(folder)
    arrays["cold_start.scores"] = arrays["cold_start.scores"][:-1]
    rewrite(folder, arrays)
    with pytest.raises(ArtifactError, match=r"inconsistent artifact .*cold_start model"):
        Recommender.load(tmp_path, catalog_movie_ids=CATALOG)


def test_an_unsorted_movie_index_is_refused(model: Recommender, tmp_path: Path):
    folder = saved(model, tmp_path)
    arrays = stored_arrays(folder)
    arrays["movie_ids"] = arrays["movie_ids"][::-1].copy()
    rewrite(folder, arrays)
    with pytest.raises(ArtifactError, match="'movie_ids' is not sorted"):
        Recommender.load(tmp_path, catalog_movie_ids=CATALOG)


def test_only_registered_models_are_saved(model: Recommender, tmp_path: Path):
    class Unregistered(Popularity):
        pass

    unregistered = Recommender(
        movie_ids=model.movie_ids,
        ranker=model.ranker,
        rating=model.rating,
        cold_start=Unregistered(movie_scores=np.zeros(len(model.movie_ids), np.float32)),
        algorithm="test",
    )
    with pytest.raises(ValueError, match="Unregistered is not registered as a cold_start model"):
        saved(unregistered, tmp_path)
    assert not (tmp_path / LATEST).exists()


def test_the_popularity_fallback_is_not_saved(ratings: pd.DataFrame, tmp_path: Path):
    with pytest.raises(ValueError, match="rebuilt from the store"):
        saved(Recommender.popularity(ratings), tmp_path)
