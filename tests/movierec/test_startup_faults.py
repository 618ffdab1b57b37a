"""Start-up faults: each is one error line and a non-zero exit, never a traceback, and a file
movierec did not create is never written to. Every broken file is made in tmp_path."""

from __future__ import annotations

import json
import logging
import logging.config
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from data.db import APPLICATION_ID, open_store
from movierec import bootstrap, cli
from recommender.artifact import FORMAT_VERSION, LATEST
from tests.etl.conftest import write_movielens
from tests.graph.conftest import populate

PAGE = 4096


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The settings every command here reads: a data folder, small MovieLens, a secret."""
    monkeypatch.setenv("MOVIEREC_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("MOVIEREC_MOVIELENS_DIR", str(write_movielens(tmp_path / "movielens")))
    monkeypatch.setenv("MOVIEREC_SECRET_KEY", "s" * 40)
    monkeypatch.setattr(bootstrap, "run_server", lambda *_args, **_kwargs: None)
    # serve's JSON logging would close pytest's capturing handlers (tests/graph/test_logs.py
    # covers that format); the lines and exit codes are what is under test here.
    monkeypatch.setattr(logging.config, "dictConfig", lambda _config: None)
    return tmp_path / "data"


@pytest.fixture
def store(data_dir: Path) -> Path:
    """A valid store (checkpointed: the whole database is in the main file)."""
    path = data_dir / "movierec.sqlite3"
    engine = open_store(f"sqlite:///{path}", create=True)
    populate(engine)
    engine.dispose()
    return path


def run(
    argv: list[str], caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> str:
    """Run the command; assert it failed with exactly one error line and no traceback."""
    caplog.clear()
    with caplog.at_level(logging.INFO):
        status = cli.main(argv)
    errors = [record for record in caplog.records if record.levelno >= logging.ERROR]
    captured = capsys.readouterr()
    assert status != 0
    assert len(errors) == 1, [record.getMessage() for record in errors]
    assert errors[0].exc_info is None
    assert "Traceback" not in captured.out + captured.err + caplog.text
    message = errors[0].getMessage()
    assert "\n" not in message
    return message


def sqlite_file(path: Path, application_id: int = 0, tables: bool = True) -> bytes:
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA application_id = {application_id}")
    conn.execute("PRAGMA user_version = 3")  # writes the header even without tables
    if tables:
        conn.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL)")
        conn.execute("INSERT INTO invoices VALUES (1, 9.5)")
    conn.commit()
    conn.close()
    return path.read_bytes()


@pytest.fixture
def frozen() -> Iterator[Callable[[Path], None]]:
    """Makes a file or folder unwritable, for root too (``chattr +i``); undone afterwards."""
    made: list[Path] = []
    as_root = os.geteuid() == 0

    def freeze(path: Path) -> None:
        path.chmod(0o555 if path.is_dir() else 0o444)
        made.append(path)
        if as_root:
            chattr = shutil.which("chattr")
            done = chattr and subprocess.run([chattr, "+i", str(path)], check=False).returncode
            if done != 0:
                pytest.skip("root without `chattr +i`: nothing can be made read-only")

    yield freeze
    for path in made:
        if as_root:
            subprocess.run(["chattr", "-i", str(path)], check=False)
        path.chmod(0o755 if path.is_dir() else 0o644)


COMMANDS = [["serve"], ["etl"], ["train"]]


@pytest.mark.parametrize("argv", [["serve"], ["etl"]])
def test_a_zero_byte_store_is_refused_not_rebuilt(
    argv: list[str],
    data_dir: Path,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = data_dir / "movierec.sqlite3"
    data_dir.mkdir()
    path.touch()
    assert "empty file that movierec did not create" in run(argv, caplog, capsys)
    assert path.read_bytes() == b""


@pytest.mark.parametrize("argv", COMMANDS)
def test_a_file_that_is_not_sqlite_is_refused(
    argv: list[str],
    data_dir: Path,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = data_dir / "movierec.sqlite3"
    data_dir.mkdir()
    path.write_text("id,title\n1,Toy Story\n" * 200)
    before = path.read_bytes()
    assert "is not a SQLite database" in run(argv, caplog, capsys)
    assert path.read_bytes() == before


@pytest.mark.parametrize("argv", COMMANDS)
def test_another_applications_database_is_left_alone(
    argv: list[str],
    data_dir: Path,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = data_dir / "movierec.sqlite3"
    before = sqlite_file(path, application_id=0x12345678)
    assert "another application's SQLite database" in run(argv, caplog, capsys)
    assert path.read_bytes() == before


@pytest.mark.parametrize("argv", COMMANDS)
def test_a_foreign_database_without_a_mark_is_left_alone(
    argv: list[str],
    data_dir: Path,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = data_dir / "movierec.sqlite3"
    before = sqlite_file(path)
    assert "not a movierec database (its tables: invoices)" in run(argv, caplog, capsys)
    assert path.read_bytes() == before


@pytest.mark.parametrize("argv", [["serve"], ["etl"]])
def test_an_empty_database_movierec_did_not_create_is_left_alone(
    argv: list[str],
    data_dir: Path,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = data_dir / "movierec.sqlite3"
    before = sqlite_file(path, tables=False)
    assert "empty SQLite database that movierec did not create" in run(argv, caplog, capsys)
    assert path.read_bytes() == before


def test_movierec_marks_the_stores_it_creates(store: Path) -> None:
    assert int.from_bytes(store.read_bytes()[68:72], "big") == APPLICATION_ID


@pytest.mark.parametrize("argv", COMMANDS)
def test_a_truncated_store_is_one_line(
    argv: list[str],
    store: Path,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    content = store.read_bytes()
    store.write_bytes(content[: len(content) // 2])
    assert "malformed" in run(argv, caplog, capsys)


def test_a_store_with_damaged_pages_does_not_start(
    store: Path, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    """Page damage a one-row read does not meet: the last page, of a table's inner data."""
    with store.open("r+b") as handle:
        handle.seek(store.stat().st_size - PAGE)
        handle.write(bytes([0x0D]) + b"\xff" * (PAGE - 1))
    assert "is damaged" in run(["serve"], caplog, capsys)


def root_page(store: Path, table: str) -> int:
    with sqlite3.connect(store) as conn:
        found = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = ?", (table,))
        return int(found.fetchone()[0])


@pytest.mark.parametrize("table", ["alembic_version", "movies", "ratings", "watchlist"])
def test_damage_is_told_as_damage_whichever_start_up_read_meets_it(
    table: str, store: Path, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    """The schema check reads alembic_version, quick_check every table: each says "damaged"."""
    page = root_page(store, table)
    with store.open("r+b") as handle:
        handle.seek((page - 1) * PAGE)
        handle.write(b"\xff" * PAGE)
    message = run(["serve"], caplog, capsys)
    assert "is damaged" in message
    assert str(store) in message


@pytest.mark.parametrize("argv", [["serve"], ["etl"]])  # `train` only reads it
def test_a_read_only_store_is_one_line(
    argv: list[str],
    store: Path,
    frozen: Callable[[Path], None],
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    before = store.read_bytes()
    frozen(store)
    assert "readonly database" in run(argv, caplog, capsys)
    assert store.read_bytes() == before


@pytest.mark.parametrize("argv", COMMANDS)
def test_an_unwritable_data_folder_is_one_line(
    argv: list[str],
    data_dir: Path,
    frozen: Callable[[Path], None],
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    frozen(data_dir.parent)  # the data folder cannot even be created
    message = run(argv, caplog, capsys)
    assert str(data_dir) in message


def write_model(data_dir: Path, arrays: bytes | None) -> Path:
    """A LATEST pointer to a model folder whose arrays file is ``arrays`` (None: no folder)."""
    models = data_dir / "models"
    models.mkdir(parents=True)
    (models / LATEST).write_text("v1\n")
    if arrays is not None:
        (models / "v1").mkdir()
        (models / "v1" / "meta.json").write_text(
            json.dumps({"format_version": FORMAT_VERSION, "arrays_sha256": "0"})
        )
        (models / "v1" / "arrays.npz").write_bytes(arrays)
    return models


@pytest.mark.parametrize("arrays", [None, b"PK\x03\x04 damaged"], ids=["missing", "damaged"])
def test_a_missing_or_damaged_model_stops_serve(
    arrays: bytes | None,
    store: Path,
    data_dir: Path,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    models = write_model(data_dir, arrays)
    message = run(["serve"], caplog, capsys)
    assert "the model cannot be used" in message
    assert str(models / LATEST) in message
