"""Starting a Spark session from a master URL, with every failure a one-line error."""

from __future__ import annotations

import os
import re
import shutil
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

DEFAULT_MASTER = "local[*]"
# The master URLs Spark documents (spark-submit --master): checked here, because a bad one
# makes the JVM print a Java stack trace and Python raise a Py4J error after seconds of start-up.
MASTER_URL = re.compile(
    r"^(local(\[(\*|[1-9]\d*)(,[1-9]\d*)?\])?"
    r"|local-cluster\[[1-9]\d*,[1-9]\d*,[1-9]\d*\]"
    r"|(spark|k8s)://\S+"
    r"|yarn)$"
)
# The session's settings unless the caller gives others. The UI is a web server per job that
# nobody reads in batch training; few shuffle partitions suit one box (a cluster sets more).
DEFAULTS = {
    "spark.ui.enabled": "false",
    "spark.sql.shuffle.partitions": "8",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    "spark.driver.memory": "4g",
    "spark.ui.showConsoleProgress": "false",
}


class SparkEngineError(Exception):
    """Spark cannot run as asked (no pyspark or Java, a bad master URL, input it cannot read,
    no ratings); the message says what to do about it."""


def check_master(master: str) -> None:
    if not MASTER_URL.match(master):
        raise SparkEngineError(
            f"bad Spark master URL {master!r}: use local[*], local[N], spark://HOST:PORT, "
            "k8s://HOST:PORT or yarn"
        )


def start_session(
    master: str = DEFAULT_MASTER,
    *,
    app_name: str = "movierec",
    config: Mapping[str, str] | None = None,
) -> SparkSession:
    """A session on ``master`` (an existing one in this process is reused, as Spark does)."""
    check_master(master)
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        raise SparkEngineError(
            "Spark needs a Java 17+ runtime: install one (Debian: default-jre-headless)"
        )
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:
        raise SparkEngineError(
            f"the Spark engine needs the [spark] extra: pip install 'movierec[spark]' ({exc})"
        ) from exc
    if master.startswith("local"):
        # Python workers run this interpreter (this virtualenv) unless told otherwise; on a
        # cluster the nodes' own Python is the cluster's business (spark.pyspark.python).
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    builder = SparkSession.builder.master(master).appName(app_name)
    for key, value in {**DEFAULTS, **(config or {})}.items():
        builder = builder.config(key, value)
    try:
        return builder.getOrCreate()
    except Exception as exc:  # Py4J and the JVM raise many kinds; all mean "no session".
        raise SparkEngineError(f"cannot start Spark on {master}: {first_line(exc)}") from exc


def first_line(exc: BaseException) -> str:
    """The first non-empty line of an error: Spark's carry the JVM's stack trace after it."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[0] if lines else type(exc).__name__


@contextmanager
def spark_session(
    master: str = DEFAULT_MASTER, *, config: Mapping[str, str] | None = None
) -> Iterator[SparkSession]:
    """:func:`start_session` for one command: the session is stopped at the end unless it was
    running before (a test's shared session, a notebook's)."""
    from pyspark.sql import SparkSession

    running = SparkSession.getActiveSession()
    session = start_session(master, config=config)
    try:
        yield session
    finally:
        if running is None:
            session.stop()
