from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy import text

import movierec.bootstrap
from data.db import make_engine, open_store
from data.migrations import StoreError
from movierec.cli import main
from tests.data.fixtures import build_previous_release_store


def test_serve_pins_blas_to_one_thread_before_numpy_work(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, str | None] = {}

    def fake_serve(_settings: object, **_kwargs: object) -> int:
        seen.update(
            {name: os.environ.get(name) for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS")}
        )
        return 0

    # setenv first so that monkeypatch restores the variable the CLI is about to set.
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "unset")
    monkeypatch.delenv("OPENBLAS_NUM_THREADS")
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    monkeypatch.setattr(movierec.bootstrap, "serve", fake_serve)
    assert main(["serve", "--port", "5999"]) == 0
    # The default is one thread; a value the operator set is kept.
    assert seen == {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "3"}


def test_invalid_setting_is_exit_code_2_naming_the_setting(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("MOVIEREC_PORT", "not-a-port")
    assert main(["report"]) == 2
    assert "port" in caplog.text


def test_unknown_command_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["frobnicate"])
    assert exit_info.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


def test_db_upgrade_migrates_a_previous_release_store_to_head(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MOVIEREC_DATA_DIR", str(tmp_path))
    url = f"sqlite:///{tmp_path / 'movierec.sqlite3'}"
    engine = make_engine(url)
    build_previous_release_store(engine)
    with pytest.raises(StoreError, match="run `movierec db upgrade`"):
        open_store(url)
    assert main(["db", "upgrade"]) == 0
    assert main(["db", "upgrade"]) == 0
    open_store(url).dispose()
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM ratings")).scalar() == 1
    engine.dispose()


def test_db_upgrade_refuses_a_newer_store_with_exit_code_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("MOVIEREC_DATA_DIR", str(tmp_path))
    engine = open_store(f"sqlite:///{tmp_path / 'movierec.sqlite3'}", create=True)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    engine.dispose()
    assert main(["db", "upgrade"]) == 2
    assert "cannot upgrade: the store at" in caplog.text
    assert "schema revision 9999 is newer than this movierec knows" in caplog.text


def test_workers_help_names_the_settings_default(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["serve", "--help"])
    assert "worker processes (default 2)" in capsys.readouterr().out
