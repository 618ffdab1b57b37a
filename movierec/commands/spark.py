"""``movierec export --parquet`` and ``movierec train --engine spark``.

The export writes the store's ratings and catalog where a Spark cluster can read them; the
Spark training reads them back (or PostgreSQL over JDBC), fits on Spark and writes the same
artifact as ``movierec train``, into the same models folder, so every server picks it up by
the usual reload.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.engine import make_url

from movierec.commands.guard import CommandError, guarded
from movierec.commands.training import publish, read_store
from movierec.settings import Settings
from recommender.artifact import catalog_fingerprint
from recommender.spark.session import SparkEngineError, check_master, spark_session
from recommender.spark.source import POSTGRES_JDBC_JAR, Ratings, read_jdbc, read_parquet

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from recommender.spark.training import SparkConfig

log = logging.getLogger(__name__)


def run_export(settings: Settings, *, parquet: Path) -> int:
    """Write the store's ratings and movie ids as Parquet under ``parquet``."""
    from recommender.spark.source import write_parquet

    def work() -> int:
        frame, catalog = read_store(settings.resolved_database_url)
        try:
            write_parquet(frame, catalog, parquet)
        except ImportError as exc:
            raise CommandError(
                f"the Parquet export needs the [spark] extra: pip install 'movierec[spark]' ({exc})"
            ) from exc
        log.info("exported %d ratings and %d movies to %s", len(frame), len(catalog), parquet)
        return 0

    return guarded(work)


def run_spark_train(
    settings: Settings,
    *,
    seed: int,
    master: str,
    parquet: str | None,
    conf: dict[str, str],
    sizes: dict[str, int | None] | None = None,
    als_reg_param: float | None = None,
) -> int:
    """Fit on Spark from ``parquet`` (or the PostgreSQL store over JDBC) and write an
    artifact like ``movierec train``'s, its engine recorded in ``meta.json``; ``sizes`` and
    ``als_reg_param`` are :meth:`SparkConfig.sized`'s arguments (the served configuration
    where absent)."""

    def work() -> int:
        from recommender.spark.training import SparkConfig

        try:
            return _train(
                settings,
                seed=seed,
                master=master,
                parquet=parquet,
                conf=conf,
                config=SparkConfig().sized(**(sizes or {}), als_reg_param=als_reg_param),
            )
        except SparkEngineError as exc:
            raise CommandError(str(exc)) from exc
        except ValueError as exc:
            raise CommandError(f"cannot fit the models on Spark: {exc}") from exc

    return guarded(work)


def _train(
    settings: Settings,
    *,
    seed: int,
    master: str,
    parquet: str | None,
    conf: dict[str, str],
    config: SparkConfig,
) -> int:
    from recommender.spark.training import fit_on_spark

    check_master(master)
    read: Callable[[SparkSession], Ratings]
    if parquet is not None:
        export = parquet
        read = lambda spark: read_parquet(spark, export)  # noqa: E731
    else:
        url, properties = _jdbc_source(settings.resolved_database_url)
        conf = {"spark.jars": POSTGRES_JDBC_JAR, **conf}
        read = lambda spark: read_jdbc(spark, url, properties)  # noqa: E731
    with spark_session(master, config=conf) as spark:
        started = time.perf_counter()
        ratings = read(spark)
        recommender = fit_on_spark(ratings.frame, ratings.catalog_movie_ids, config, seed=seed)
        fit_seconds = time.perf_counter() - started
        meta = {
            "engine": _engine(spark),
            "hyper_parameters": {
                "ranker": asdict(config.ranker),
                "als": asdict(config.als),
                "popularity": config.popularity,
                "partitions": config.partitions,
                "seed": seed,
            },
            "data": {"movies": len(recommender.movie_ids), "source": ratings.source},
            "catalog_fingerprint": catalog_fingerprint(ratings.catalog_movie_ids),
            "metrics": {"fit_seconds": round(fit_seconds, 3)},
        }
    folder = publish(settings, recommender, meta)
    log.info(
        "trained %s on Spark (%s) in %.1f s: %s", recommender.algorithm, master, fit_seconds, folder
    )
    return 0


def _engine(spark: SparkSession) -> dict[str, str]:
    """What ``meta.json`` says of the engine: a server never reads it, a person does."""
    return {
        "name": "spark",
        "spark_version": spark.version,
        "master": str(spark.sparkContext.master),
    }


def _jdbc_source(database_url: str) -> tuple[str, dict[str, str]]:
    """The store's JDBC URL and properties; only PostgreSQL is read over JDBC."""
    url = make_url(database_url)
    if url.get_backend_name() != "postgresql":
        raise CommandError(
            "the Spark engine reads a Parquet export (`movierec export --parquet DIR`, then "
            "`movierec train --engine spark --parquet DIR`) or a PostgreSQL store over JDBC; "
            f"this store is {url.get_backend_name()}"
        )
    if not os.path.isfile(POSTGRES_JDBC_JAR):
        raise CommandError(
            f"reading PostgreSQL from Spark needs its JDBC driver at {POSTGRES_JDBC_JAR} "
            "(Debian: libpostgresql-jdbc-java)"
        )
    jdbc = f"jdbc:postgresql://{url.host or 'localhost'}:{url.port or 5432}/{url.database or ''}"
    properties = {"driver": "org.postgresql.Driver"}
    if url.username:
        properties["user"] = url.username
    if url.password:
        properties["password"] = str(url.password)
    return jdbc, properties


def run_spark_evaluate(
    settings: Settings,
    *,
    out: Path | None,
    seed: int,
    quick: bool,
    master: str,
    rating_only: bool = False,
) -> int:
    """The Spark-trained models beside the NumPy engine's on the store's ratings (the rating
    models alone with ``rating_only``); writes evaluation-spark.md and .json to ``out``
    (default ``<data dir>/evaluation``)."""
    from recommender.spark.comparison import run_spark_comparison, to_markdown

    def work() -> int:
        folder = out or settings.evaluation_dir
        check_master(master)
        frame, catalog = read_store(settings.resolved_database_url)
        try:
            with spark_session(master) as spark:
                results = run_spark_comparison(
                    frame,
                    spark,
                    seed=seed,
                    quick=quick,
                    catalog_movie_ids=catalog,
                    rating_only=rating_only,
                )
        except SparkEngineError as exc:
            raise CommandError(str(exc)) from exc
        flags = (" --quick" if quick else "") + (" --rating-only" if rating_only else "")
        command = f"movierec evaluate --engine spark --seed {seed}{flags}"
        markdown = to_markdown(results, command=command)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "evaluation-spark.md").write_text(markdown)
        (folder / "evaluation-spark.json").write_text(json.dumps(results, indent=2) + "\n")
        print(markdown)
        log.info("wrote %s", folder / "evaluation-spark.md")
        return 0

    return guarded(work)
