"""First-start wiring for ``movierec serve``: build what is missing, then run the server.

A fresh clone has no store, no model and no token secret. ``prepare`` builds each once, in the
parent process before any worker starts, so that every worker opens the same store, loads the
same model and signs tokens with the same secret. ``asgi_app`` is the factory each uvicorn
worker calls; it reads the settings itself because workers are fresh processes.
"""

from __future__ import annotations

import logging
import logging.config
import os
import secrets
from pathlib import Path

from fastapi import FastAPI
from sqlalchemy import Engine

from data.db import check_usable, open_store, store_exists
from data.migrations import StoreError
from graph.app import create_app
from graph.assets import web_app_dir
from graph.config import AppConfig, GraphQLLimits
from graph.logs import log_config
from graph.server import run_server, settle_heap
from graph.services.recommendations import load_trained
from graph.services.tokens import MIN_SECRET_LENGTH
from movierec.settings import Settings
from recommender.artifact import LATEST, ArtifactError

log = logging.getLogger(__name__)

SECRET_FILE = "secret.key"
# The seed `movierec train` uses by default, so a first start trains the same model.
TRAINING_SEED = 42


def serve(settings: Settings, *, host: str | None, port: int | None, workers: int | None) -> int:
    # JSON from the first line on: the first start's ETL and training log before uvicorn runs.
    logging.config.dictConfig(log_config(settings.log_level))
    status = prepare(settings)
    if status != 0:
        return status
    run_server(
        f"{__name__}:asgi_app",
        host=host or settings.host,
        port=port or settings.port,
        workers=workers or settings.workers,
        log_level=settings.log_level,
        trusted_proxies=settings.trusted_proxies,
    )
    return 0


def prepare(settings: Settings) -> int:
    """Build the store and train the model when missing, and make sure a secret exists.

    Whatever would stop a worker is checked here, once, in the parent: a store movierec did not
    create, cannot read or finds damaged, a damaged model, a data folder it cannot write, a store
    of another schema revision or a secret too short to sign with would otherwise fail inside
    every worker process, as a traceback, while uvicorn kept restarting them. Each is one log
    line and exit code 2 here.
    """
    try:
        return _prepare(settings)
    except (StoreError, ArtifactError, OSError) as exc:
        log.error("cannot serve: %s", exc)
        return 2


def _prepare(settings: Settings) -> int:
    url = settings.resolved_database_url
    if not store_exists(url):
        from movierec.commands.ingest import run_etl

        log.info("no store yet: loading MovieLens (first start)")
        status = run_etl(settings)
        if status != 0:
            return status  # the ETL logged why
    engine = open_store(url)
    try:
        check_usable(engine)  # before training reads it: a damaged store is one message
        latest = settings.resolved_models_dir / LATEST
        if not latest.is_file():
            from movierec.commands.training import run_train

            log.info("no model yet: training (first start)")
            if run_train(settings, seed=TRAINING_SEED) != 0:
                log.warning("training failed: the workers fall back to the most-rated movies")
        if latest.is_file():
            _check_model(engine, settings.resolved_models_dir)
    finally:
        engine.dispose()
    if len(token_secret(settings)) < MIN_SECRET_LENGTH:
        log.error(
            "cannot serve: MOVIEREC_SECRET_KEY must be at least %d characters", MIN_SECRET_LENGTH
        )
        return 2
    return 0


def _check_model(engine: Engine, models_dir: Path) -> None:
    """A model that was trained must load: serving popularity instead would hide the fault."""
    try:
        load_trained(engine, models_dir)
    except ArtifactError as exc:
        raise ArtifactError(
            f"the model cannot be used: {exc} (or delete {models_dir / LATEST} to serve the "
            "popularity ranking)"
        ) from exc


def token_secret(settings: Settings) -> str:
    """The configured secret, or one generated once into ``<data_dir>/secret.key`` (0600)."""
    if settings.secret_key:
        return settings.secret_key
    path = settings.data_dir / SECRET_FILE
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        _write_private(path, secrets.token_urlsafe(48))
        log.info("generated a token secret in %s", path)
    return path.read_text().strip()


def _write_private(path: Path, content: str) -> None:
    """Create the file readable by its owner only; never overwrite (another process may race)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    with os.fdopen(fd, "w") as handle:
        handle.write(content + "\n")


def app_config(settings: Settings) -> AppConfig:
    return AppConfig(
        database_url=settings.resolved_database_url,
        models_dir=settings.resolved_models_dir,
        secret_key=token_secret(settings),
        token_ttl_seconds=settings.token_ttl_seconds,
        legacy_api=settings.legacy_api,
        web_dir=settings.web_dir or web_app_dir(),
        login_failures_per_username=settings.login_failures_per_username,
        login_failures_per_address=settings.login_failures_per_address,
        login_window_seconds=settings.login_window_seconds,
        signups_per_address=settings.signups_per_address,
        signup_window_seconds=settings.signup_window_seconds,
        limits=GraphQLLimits(deadline_seconds=settings.request_deadline_seconds),
        model_check_seconds=settings.model_check_seconds,
        recommendation_cache_entries=settings.recommendation_cache_entries,
    )


def asgi_app() -> FastAPI:
    """The uvicorn factory: one app per worker process, from the environment's settings."""
    app = create_app(app_config(Settings()))
    settle_heap()
    return app
