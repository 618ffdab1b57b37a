"""Fixtures shared by every test package: a fresh store, the real MovieLens folder, and one load
of it per session."""

from __future__ import annotations

import importlib.util
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import Engine, MetaData

from data.db import make_engine, open_store
from etl.load import LoadSummary, load_movielens
from etl.metadata import Metadata

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def real_movielens_dir() -> Path | None:
    """The real MovieLens folder: ``MOVIEREC_MOVIELENS_DIR`` or ``../shared/movielens``."""
    configured = os.environ.get("MOVIEREC_MOVIELENS_DIR")
    candidate = Path(configured) if configured else PROJECT_ROOT.parent / "shared" / "movielens"
    return candidate if (candidate / "ratings.csv").is_file() else None


# Read once, before any test runs: the autouse fixture below hides the variable from tests.
REAL_MOVIELENS_DIR = real_movielens_dir()
# Settings a test may rely on from the outside: where a PostgreSQL server for tests is.
KEPT_VARIABLES = {"MOVIEREC_TEST_POSTGRES_URL"}


@pytest.fixture(autouse=True)
def isolated_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Hide the caller's movierec settings from every test.

    `make` exports MOVIEREC_MOVIELENS_DIR pointing at the shared, irreplaceable MovieLens
    folder; a test that builds ``Settings()`` and writes would otherwise write *there*. Tests
    name every folder they use instead (``movielens_dir`` for the real data, read-only). The
    default data folder is the user's, so it points into the test's own folder too.
    """
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    for name in list(os.environ):
        if (
            name.startswith("MOVIEREC_") and name not in KEPT_VARIABLES
        ) or name == "TMDB_API_TOKEN":
            monkeypatch.delenv(name)


@pytest.fixture(scope="session")
def movielens_dir() -> Path:
    found = REAL_MOVIELENS_DIR
    if found is None:
        pytest.skip("real MovieLens data not found (set MOVIEREC_MOVIELENS_DIR)")
    return found


def drop_every_table(engine: Engine) -> None:
    """Empty a test database: every table it has, Alembic's version table included, so the next
    store built there starts from nothing (``schema.metadata`` alone would leave the version)."""
    found = MetaData()
    found.reflect(engine)
    found.drop_all(engine)


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """The PostgreSQL database ``MOVIEREC_TEST_POSTGRES_URL`` names, emptied before and after;
    skipped when that is not set (CI starts a server with ``.ci/postgres``)."""
    url = os.environ.get("MOVIEREC_TEST_POSTGRES_URL")
    if not url:
        pytest.skip("MOVIEREC_TEST_POSTGRES_URL is not set: no PostgreSQL server to test against")
    engine = make_engine(url)
    try:
        drop_every_table(engine)
        yield url
        drop_every_table(engine)
    finally:
        engine.dispose()


@pytest.fixture
def store_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'store.sqlite3'}"


@pytest.fixture
def engine(store_url: str) -> Iterator[Engine]:
    """An empty store at the head schema revision, in a temporary folder."""
    engine = open_store(store_url, create=True)
    yield engine
    engine.dispose()


def _no_cache(_tmdb_id: int) -> Metadata | None:
    return None


@pytest.fixture(scope="session")
def real_store(
    tmp_path_factory: pytest.TempPathFactory, movielens_dir: Path
) -> Iterator[tuple[Engine, LoadSummary]]:
    """One real load per test session, shared by the ETL and report tests (read-only)."""
    url = f"sqlite:///{tmp_path_factory.mktemp('real') / 'store.sqlite3'}"
    engine = open_store(url, create=True)
    summary = load_movielens(engine, movielens_dir, cached=_no_cache)
    yield engine, summary
    engine.dispose()


# One local Spark session for every Spark test (starting one costs seconds; stopped when the
# test session ends), sized for tiny data: two cores, two partitions after a shuffle and for
# RDDs, no web UI, and a JVM for short runs (TINY_JVM). The tests skip, saying why, where
# pyspark or a Java runtime is missing; CI installs both (.ci/run: the [spark] extra,
# default-jre-headless), so there they run.
# The JVM for tests' short Spark runs: the client compiler only and one GC thread. Spark's
# code is large and a test's jobs are tiny, so the optimising compiler's and the parallel
# collector's threads cost more CPU than they save (README, "Tests and CI": about 28 % less
# CPU for the same tests on this 2-core machine).
TINY_JVM = "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC"
SPARK_MISSING = (
    "pyspark is not installed (the [spark] extra)"
    if importlib.util.find_spec("pyspark") is None
    else "no Java runtime (Spark needs Java 17+)"
    if shutil.which("java") is None
    else None
)


@pytest.fixture(scope="session")
def spark() -> Iterator[SparkSession]:
    if SPARK_MISSING:
        pytest.skip(SPARK_MISSING)
    from recommender.spark.session import start_session
    from recommender.spark.source import POSTGRES_JDBC_JAR

    config = {
        "spark.sql.shuffle.partitions": "2",
        "spark.default.parallelism": "2",
        "spark.ui.enabled": "false",
        "spark.driver.memory": "1g",
        "spark.driver.extraJavaOptions": TINY_JVM,
    }
    if Path(POSTGRES_JDBC_JAR).is_file():
        # Jars load when the JVM starts: `train` adds this one to the session it starts, but
        # in the tests every command reuses this session.
        config["spark.jars"] = POSTGRES_JDBC_JAR
    session = start_session("local[2]", app_name="movierec-tests", config=config)
    yield session
    session.stop()
