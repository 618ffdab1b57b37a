"""The ``movierec`` command: parses arguments, reads settings, calls into the packages.

No logic lives here. Each subcommand is a function of the command layer (``movierec.commands``,
``movierec.bootstrap`` for ``serve``); this module only wires arguments and settings to it.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

from movierec.settings import Settings

N = TypeVar("N", int, float)

log = logging.getLogger("movierec")
# `movierec train --engine spark`'s model sizes (SparkConfig.sized): a smaller fit for a quick
# trial (or a test), more partitions for a cluster. Unset means the served configuration.
SPARK_SIZES = {
    "ranker_factors": "spark engine: the ranker's SVD factors (default: the served PureSVD's)",
    "als_rank": "spark engine: MLlib ALS's rank (default 32)",
    "als_iterations": "spark engine: MLlib ALS's iterations (default 12)",
    "partitions": "spark engine: partitions holding the ratings (default 8)",
}

Handler = Callable[[argparse.Namespace, Settings], int]


def _etl(args: argparse.Namespace, settings: Settings) -> int:
    from movierec.commands.ingest import run_etl

    return run_etl(settings, movielens_dir=args.movielens)


def _enrich(args: argparse.Namespace, settings: Settings) -> int:
    from movierec.commands.ingest import run_enrich

    return run_enrich(settings, limit=args.limit, concurrency=args.concurrency)


def _download(args: argparse.Namespace, settings: Settings) -> int:
    from movierec.commands.ingest import run_download

    return run_download(settings, dataset=args.dataset, dest=args.dest)


def _report(args: argparse.Namespace, settings: Settings) -> int:
    from movierec.commands.report import run_report

    return run_report(settings, out=args.out)


def _train(args: argparse.Namespace, settings: Settings) -> int:
    if args.engine == "spark":
        from movierec.commands.spark import run_spark_train

        return run_spark_train(
            settings,
            seed=args.seed,
            master=args.spark_master,
            parquet=args.parquet,
            conf=dict(args.spark_conf),
            sizes={name: getattr(args, name) for name in SPARK_SIZES},
            als_reg_param=args.als_reg_param,
        )
    given = [
        f"--{name.replace('_', '-')}"
        for name in (*SPARK_SIZES, "als_reg_param")
        if getattr(args, name)
    ]
    if given:
        log.error("%s apply to --engine spark only", ", ".join(given))
        return 2
    from movierec.commands.training import run_train

    return run_train(settings, seed=args.seed)


def _export(args: argparse.Namespace, settings: Settings) -> int:
    from movierec.commands.spark import run_export

    return run_export(settings, parquet=args.parquet)


def _key_value(text: str) -> tuple[str, str]:
    key, equals, value = text.partition("=")
    if not equals or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    return key, value


def _above_zero(parse: Callable[[str], N], what: str) -> Callable[[str], N]:
    """An argparse type: ``parse``'s value of the text when it is a finite number above 0."""

    def parsed(text: str) -> N:
        try:
            value = parse(text)
        except ValueError:
            value = parse("0")
        if not 0 < value < float("inf"):
            raise argparse.ArgumentTypeError(f"expected {what} above 0, got {text!r}")
        return value

    return parsed


_positive = _above_zero(int, "a whole number")
_positive_number = _above_zero(float, "a number")


def _evaluate(args: argparse.Namespace, settings: Settings) -> int:
    if args.engine == "spark":
        from movierec.commands.spark import run_spark_evaluate

        return run_spark_evaluate(
            settings,
            out=args.out,
            seed=args.seed,
            quick=args.quick,
            master=args.spark_master,
            rating_only=args.rating_only,
        )
    if args.rating_only:
        log.error("--rating-only applies to --engine spark only")
        return 2
    from movierec.commands.training import run_evaluate

    return run_evaluate(settings, out=args.out, seed=args.seed, quick=args.quick)


def _db_upgrade(_args: argparse.Namespace, settings: Settings) -> int:
    from data.db import open_store
    from data.migrations import StoreError, head

    try:
        open_store(settings.resolved_database_url, create=True).dispose()
    except StoreError as exc:
        log.error("cannot upgrade: %s", exc)
        return 2
    log.info("the store is at the schema this movierec needs (%s)", head())
    return 0


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    # Before NumPy loads: a request's small solves are fastest on one thread, and on a busy
    # machine multi-threaded OpenBLAS made a user's fold-in ~180x slower (0.3 ms -> 53 ms).
    # Concurrency comes from worker processes instead. An explicit setting still wins.
    for variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"):
        os.environ.setdefault(variable, "1")
    from movierec.bootstrap import serve

    return serve(settings, host=args.host, port=args.port, workers=args.workers)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="movierec", description=__doc__.splitlines()[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    etl = sub.add_parser("etl", help="load MovieLens + TMDB metadata into the store")
    etl.add_argument("--movielens", type=Path, help="MovieLens folder (default: settings)")
    etl.set_defaults(handler=_etl)
    etl_sub = etl.add_subparsers(dest="etl_command", metavar="SUBCOMMAND")
    enrich = etl_sub.add_parser("enrich", help="fetch fresh metadata from TMDB (TMDB_API_TOKEN)")
    enrich.add_argument("--limit", type=int, help="fetch at most this many movies")
    enrich.add_argument("--concurrency", type=int, default=8, help="requests in flight")
    enrich.set_defaults(handler=_enrich)

    data = sub.add_parser("data", help="manage source data sets")
    data_sub = data.add_subparsers(dest="data_command", required=True, metavar="SUBCOMMAND")
    download = data_sub.add_parser("download", help="download a MovieLens data set")
    download.add_argument("--dataset", default="ml-latest-small", help="GroupLens archive name")
    download.add_argument("--dest", type=Path, help="folder (default: settings movielens dir)")
    download.set_defaults(handler=_download)

    db = sub.add_parser("db", help="manage the store's schema")
    db_sub = db.add_subparsers(dest="db_command", required=True, metavar="SUBCOMMAND")
    upgrade = db_sub.add_parser(
        "upgrade", help="migrate the store to this release's schema (creates it when empty)"
    )
    upgrade.set_defaults(handler=_db_upgrade)

    report = sub.add_parser("report", help="charts and a Markdown summary of the data")
    report.add_argument("--out", type=Path, help="output folder (default: <data dir>/report)")
    report.set_defaults(handler=_report)

    train = sub.add_parser("train", help="fit the served models on every rating in the store")
    train.add_argument("--seed", type=int, default=42)
    train.add_argument(
        "--engine",
        choices=("numpy", "spark"),
        default="numpy",
        help="numpy (this machine) or spark (the [spark] extra and Java 17+)",
    )
    train.add_argument(
        "--spark-master", default="local[*]", help="Spark master URL (default local[*])"
    )
    train.add_argument(
        "--parquet",
        help="the Spark engine's input: a `movierec export --parquet` folder or URL "
        "(default: a PostgreSQL store over JDBC)",
    )
    train.add_argument(
        "--spark-conf",
        type=_key_value,
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a Spark setting (repeatable), e.g. spark.driver.memory=6g",
    )
    for name, help_text in SPARK_SIZES.items():
        train.add_argument(
            f"--{name.replace('_', '-')}", type=_positive, metavar="N", help=help_text
        )
    train.add_argument(
        "--als-reg-param",
        type=_positive_number,
        metavar="X",
        help="spark engine: MLlib ALS's regParam, not searched for: two ALS fits instead "
        "of at least four (default: chosen on a validation carve, one fit per value tried)",
    )
    train.set_defaults(handler=_train)

    export = sub.add_parser("export", help="write the store's ratings for other engines")
    export.add_argument(
        "--parquet", type=Path, required=True, help="folder for ratings.parquet, movies.parquet"
    )
    export.set_defaults(handler=_export)

    evaluate = sub.add_parser("evaluate", help="compare models: rating error and top-N ranking")
    evaluate.add_argument("--out", type=Path, help="output folder (default: <data dir>/evaluation)")
    evaluate.add_argument("--seed", type=int, default=42)
    evaluate.add_argument("--quick", action="store_true", help="fewer models and folds")
    evaluate.add_argument(
        "--engine",
        choices=("numpy", "spark"),
        default="numpy",
        help="spark: the Spark-trained models beside the NumPy engine's (evaluation-spark.md)",
    )
    evaluate.add_argument(
        "--spark-master", default="local[*]", help="Spark master URL (default local[*])"
    )
    evaluate.add_argument(
        "--rating-only",
        action="store_true",
        help="spark engine: the rating models' cross-validation only, no ranking table",
    )
    evaluate.set_defaults(handler=_evaluate)

    serve = sub.add_parser("serve", help="run the API server (builds store and model if missing)")
    serve.add_argument("--host", help="bind address (default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (default 5000)")
    serve.add_argument(
        "--workers",
        type=int,
        # From the setting itself, so the help cannot drift from the default again.
        help=f"worker processes (default {Settings.model_fields['workers'].default})",
    )
    serve.set_defaults(handler=_serve)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    # Alembic narrates each step of an upgrade at INFO; data.migrations logs the outcome.
    logging.getLogger("alembic").setLevel(logging.DEBUG if args.verbose else logging.WARNING)
    try:
        settings = Settings()
    except ValueError as exc:
        log.error("invalid settings: %s", exc)
        return 2
    handler: Handler = args.handler
    try:
        return handler(args, settings)
    except KeyboardInterrupt:
        log.error("interrupted")
        return 130
