from __future__ import annotations

import os

import pytest

import movierec.bootstrap
from movierec.cli import main


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
