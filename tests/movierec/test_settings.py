"""Where runtime state goes when nothing is configured: never beside the code."""

from __future__ import annotations

from pathlib import Path

import pytest

import data
import graph
from movierec import bootstrap
from movierec.settings import Settings


def test_default_data_dir_is_the_users_data_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "share"))
    settings = Settings()
    assert settings.data_dir == tmp_path / "share" / "movierec"
    assert settings.resolved_database_url == f"sqlite:///{tmp_path}/share/movierec/movierec.sqlite3"
    assert settings.resolved_models_dir == tmp_path / "share" / "movierec" / "models"
    assert settings.report_dir == tmp_path / "share" / "movierec" / "report"
    assert settings.evaluation_dir == tmp_path / "share" / "movierec" / "evaluation"


def test_the_environment_names_the_data_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MOVIEREC_DATA_DIR", str(tmp_path / "var"))
    assert Settings().data_dir == tmp_path / "var"


def test_no_default_lies_inside_a_source_package() -> None:
    settings = Settings()
    packages = [Path(data.__file__).parent.parent, Path(graph.__file__).parent]
    for folder in (settings.data_dir, settings.resolved_models_dir, settings.cache_dir):
        assert not any(folder.is_relative_to(package) for package in packages), folder


def test_the_web_app_defaults_to_the_one_shipped_in_the_package(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, secret_key="s" * 40)
    web_dir = bootstrap.app_config(settings).web_dir
    assert web_dir is not None
    assert web_dir == Path(graph.__file__).parent / "web"
    assert (web_dir / "index.html").is_file()
    assert (web_dir / "vendor" / "graphiql" / "graphiql.min.js").is_file()
    configured = Settings(data_dir=tmp_path, secret_key="s" * 40, web_dir=tmp_path / "mine")
    assert bootstrap.app_config(configured).web_dir == tmp_path / "mine"


def test_the_ranking_cache_size_reaches_the_server_and_refuses_a_negative_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = Settings(data_dir=tmp_path, secret_key="s" * 40)
    assert bootstrap.app_config(settings).recommendation_cache_entries == 4096
    monkeypatch.setenv("MOVIEREC_RECOMMENDATION_CACHE_ENTRIES", "0")
    configured = Settings(data_dir=tmp_path, secret_key="s" * 40)
    assert bootstrap.app_config(configured).recommendation_cache_entries == 0
    monkeypatch.setenv("MOVIEREC_RECOMMENDATION_CACHE_ENTRIES", "-1")
    with pytest.raises(ValueError, match="greater than or equal to 0"):
        Settings(data_dir=tmp_path, secret_key="s" * 40)
