"""One local Spark session for every Spark test (starting one costs seconds).

The tests skip, saying why, where pyspark or a Java runtime is missing; CI installs both
(``.ci/run``: the [spark] extra, default-jre-headless), so there they run.
"""

from __future__ import annotations

import importlib.util
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

MISSING = (
    "pyspark is not installed (the [spark] extra)"
    if importlib.util.find_spec("pyspark") is None
    else "no Java runtime (Spark needs Java 17+)"
    if shutil.which("java") is None
    else None
)


@pytest.fixture(scope="session")
def spark() -> Iterator[SparkSession]:
    if MISSING:
        pytest.skip(MISSING)
    from recommender.spark.session import start_session
    from recommender.spark.source import POSTGRES_JDBC_JAR

    config = {"spark.sql.shuffle.partitions": "2", "spark.driver.memory": "1g"}
    if Path(POSTGRES_JDBC_JAR).is_file():
        # Jars load when the JVM starts: `train` adds this one to the session it starts, but
        # in the tests every command reuses this session.
        config["spark.jars"] = POSTGRES_JDBC_JAR
    session = start_session("local[2]", app_name="movierec-tests", config=config)
    yield session
    session.stop()
