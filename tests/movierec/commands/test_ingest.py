"""``movierec etl``, ``etl enrich`` and ``data download`` end to end: exit codes, messages,
enrichment reaching the store."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from data.db import open_store
from data.schema import movies
from movierec.cli import main
from movierec.commands.ingest import run_download, run_enrich, run_etl
from movierec.settings import Settings
from tests.etl.conftest import (
    FILES,
    GOOD,
    FakeGroupLens,
    FakeTmdb,
    Reply,
    build_zip,
    dump,
    write_movielens,
)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "state")


def test_cli_etl_loads_and_prints_the_summary(
    tmp_path: Path,
    movielens_small: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("MOVIEREC_DATA_DIR", str(tmp_path / "state"))
    assert main(["etl", "--movielens", str(movielens_small)]) == 0
    out = capsys.readouterr().out
    assert "ratings.csv                    5         5" in out
    assert "combined_movies.csv: duplicate rows dropped (movieId 2): 1" in out
    assert "demo users: 3 created, 0 already present" in out


def test_cli_etl_bad_row_exits_1_naming_file_and_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    directory = write_movielens(tmp_path / "ml", ratings=[*FILES["ratings.csv"], "1,3,4.2,1"])
    monkeypatch.setenv("MOVIEREC_DATA_DIR", str(tmp_path / "state"))
    assert main(["etl", "--movielens", str(directory)]) == 1
    assert f"{directory / 'ratings.csv'}:7: rating '4.2' is not one of 0.5" in caplog.text


def test_etl_without_data_says_how_to_get_it(
    settings: Settings, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    assert run_etl(settings, movielens_dir=tmp_path / "nowhere") == 1
    assert "run `movierec data download`" in caplog.text


def test_enrich_needs_a_token(settings: Settings, caplog: pytest.LogCaptureFixture) -> None:
    assert run_enrich(settings) == 1
    assert "TMDB_API_TOKEN is not set" in caplog.text


def test_enrich_reaches_the_store_and_survives_a_rerun_of_the_etl(
    tmp_path: Path, movielens_small: Path, tmdb: FakeTmdb
) -> None:
    settings = Settings(data_dir=tmp_path / "state", tmdb_api_token="t", tmdb_base_url=tmdb.url)
    assert run_etl(settings, movielens_dir=movielens_small) == 0
    assert run_enrich(settings, concurrency=2) == 0
    engine = open_store(settings.resolved_database_url)
    try:
        enriched = dump(engine)
        with engine.connect() as conn:
            toy = conn.execute(select(movies).where(movies.c.id == 1)).one()
        assert (toy.overview, toy.backdrop_path) == ("Overview 862", "/own862.jpg")
        assert sorted(seen.tmdb_id for seen in tmdb.seen) == [862, 9087, 13916]
        assert run_etl(settings, movielens_dir=movielens_small) == 0
        assert dump(engine) == enriched
    finally:
        engine.dispose()


def test_enrich_failures_exit_1_and_rerun_retries(
    tmp_path: Path, movielens_small: Path, tmdb: FakeTmdb, caplog: pytest.LogCaptureFixture
) -> None:
    settings = Settings(data_dir=tmp_path / "state", tmdb_api_token="t", tmdb_base_url=tmdb.url)
    tmdb.script[9087] = [Reply(body=b"<html>"), Reply()]
    assert run_etl(settings, movielens_dir=movielens_small) == 0
    assert run_enrich(settings) == 1
    assert "1 movies failed; rerun to retry them" in caplog.text
    assert run_enrich(settings) == 0
    assert len(tmdb.requests_for(9087)) == 2
    assert len(tmdb.requests_for(862)) == 1


def test_command_uses_the_settings_url_and_exit_codes(
    grouplens: FakeGroupLens, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    grouplens.publish("ml-test", build_zip(GOOD))
    settings = Settings(data_dir=tmp_path, grouplens_url=grouplens.url)
    assert run_download(settings, dataset="ml-test") == 0
    assert (tmp_path / "movielens" / "ratings.csv").is_file()
    assert run_download(settings, dataset="ml-missing") == 1
    assert "ml-missing.zip.md5 answered HTTP 404" in caplog.text
