"""First-start wiring (movierec/bootstrap.py, the API's start-up): store, model, secret."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy import text

import movierec.commands.ingest
import movierec.commands.training
from data.db import open_store
from data.migrations import head
from movierec import bootstrap
from movierec.settings import Settings
from tests.graph.conftest import populate, save_small_model


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", secret_key=None, web_dir=tmp_path / "no-web")


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Stand-ins for the ETL and training that record their calls and build what they would."""
    made: list[str] = []

    def run_etl(settings: Settings) -> int:
        made.append("etl")
        populate(open_store(settings.resolved_database_url, create=True))
        return 0

    def run_train(settings: Settings, seed: int) -> int:
        made.append(f"train(seed={seed})")
        engine = open_store(settings.resolved_database_url)
        save_small_model(engine, settings.resolved_models_dir, seed)
        engine.dispose()
        return 0

    monkeypatch.setattr(movierec.commands.ingest, "run_etl", run_etl)
    monkeypatch.setattr(movierec.commands.training, "run_train", run_train)
    return made


def test_first_start_builds_store_model_and_secret_once(
    settings: Settings, calls: list[str]
) -> None:
    assert bootstrap.prepare(settings) == 0
    assert calls == ["etl", "train(seed=42)"]
    secret = settings.data_dir / bootstrap.SECRET_FILE
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    first = bootstrap.token_secret(settings)
    assert bootstrap.prepare(settings) == 0
    assert calls == ["etl", "train(seed=42)"]
    assert bootstrap.token_secret(settings) == first
    assert len(first) >= 32


def test_failed_etl_stops_the_start(
    settings: Settings, calls: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(movierec.commands.ingest, "run_etl", lambda _settings: 3)
    assert bootstrap.prepare(settings) == 3
    assert not settings.resolved_models_dir.exists()


def test_failed_training_still_serves_popularity(
    settings: Settings, calls: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(movierec.commands.training, "run_train", lambda _settings, seed: 1)
    assert bootstrap.prepare(settings) == 0
    app = bootstrap.create_app(bootstrap.app_config(settings))
    with TestClient(app) as client:
        assert client.get("/readyz").json()["model"]["kind"] == "popularity"


def test_configured_secret_wins(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, secret_key="configured-" + "s" * 40)
    assert bootstrap.token_secret(settings) == "configured-" + "s" * 40
    assert not (tmp_path / bootstrap.SECRET_FILE).exists()


def test_app_config_carries_the_settings(settings: Settings, calls: list[str]) -> None:
    bootstrap.prepare(settings)
    config = bootstrap.app_config(settings)
    assert config.database_url == settings.resolved_database_url
    assert config.models_dir == settings.resolved_models_dir
    assert config.legacy_api is True
    assert config.web_dir == settings.web_dir


def test_the_request_deadline_is_a_setting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOVIEREC_REQUEST_DEADLINE_SECONDS", "2.5")
    settings = Settings(data_dir=tmp_path, secret_key="configured-" + "s" * 40)
    assert bootstrap.app_config(settings).limits.deadline_seconds == 2.5
    monkeypatch.setenv("MOVIEREC_REQUEST_DEADLINE_SECONDS", "0")
    with pytest.raises(ValidationError):
        Settings(data_dir=tmp_path, secret_key="configured-" + "s" * 40)


def test_a_too_short_secret_stops_the_start_with_a_message(
    tmp_path: Path, calls: list[str], caplog: pytest.LogCaptureFixture
) -> None:
    settings = Settings(data_dir=tmp_path, secret_key="short")
    assert bootstrap.prepare(settings) == 2
    assert "MOVIEREC_SECRET_KEY must be at least 32 characters" in caplog.text


@pytest.mark.parametrize(
    ("statements", "message"),
    [
        (
            ["UPDATE alembic_version SET version_num = '9999'"],
            f"schema revision 9999 is newer than this movierec knows (its newest is {head()}); "
            "upgrade movierec",
        ),
        (
            [
                "DROP TABLE alembic_version",
                "CREATE TABLE schema_version (version INTEGER PRIMARY KEY)",
                "INSERT INTO schema_version VALUES (1)",
            ],
            "before Alembic (schema_version 1); run `movierec db upgrade` to migrate it",
        ),
    ],
    ids=["newer", "previous-release"],
)
def test_a_store_of_another_schema_stops_the_start_with_a_message(
    settings: Settings,
    calls: list[str],
    caplog: pytest.LogCaptureFixture,
    statements: list[str],
    message: str,
) -> None:
    assert bootstrap.prepare(settings) == 0
    engine = open_store(settings.resolved_database_url)
    with engine.begin() as conn:
        for statement in statements:
            conn.execute(text(statement))
    engine.dispose()
    assert bootstrap.prepare(settings) == 2
    assert f"cannot serve: the store at sqlite:///{settings.data_dir}" in caplog.text
    assert message in caplog.text
