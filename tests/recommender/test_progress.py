from __future__ import annotations

import io

import pytest

from recommender.progress import progress


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_is_quiet_when_stderr_is_not_a_terminal(monkeypatch: pytest.MonkeyPatch):
    stream = io.StringIO()
    monkeypatch.setattr("sys.stderr", stream)
    with progress(4, "phase", " steps") as bar:
        bar.update(4)
    assert stream.getvalue() == ""


def test_progress_shows_the_phase_and_time_left_on_a_terminal(monkeypatch: pytest.MonkeyPatch):
    stream = Terminal()
    monkeypatch.setattr("sys.stderr", stream)
    with progress(4, "phase", " steps") as bar:
        bar.update(1)
    shown = stream.getvalue()
    assert "phase" in shown
    assert "1/4" in shown
    # tqdm's "[elapsed<remaining, rate]": the ETA.
    assert "<" in shown
