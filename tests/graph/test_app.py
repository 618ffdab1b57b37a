"""The app around the schema: probes, the web folder at /, access log, a non-blocking login."""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError

import graph.app
from data.movies import catalog_movie_ids
from graph.app import create_app
from graph.config import AppConfig
from graph.services.bundle import Services, build_services
from graph.services.recommendations import load_recommender
from recommender.artifact import catalog_fingerprint
from recommender.serving import Recommender


def test_healthz(http: TestClient) -> None:
    assert http.get("/healthz").json() == {"status": "alive"}


def test_readyz_reports_the_model(http: TestClient, services: Services) -> None:
    served = services.recommendations.recommender
    assert served.kind == "model"
    assert http.get("/readyz").json() == {
        "status": "ready",
        "store": "ok",
        "model": {"kind": "model", "algorithm": served.algorithm, "version": served.version},
    }


def test_readyz_reports_an_unreachable_store(
    http: TestClient, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    def unreachable() -> None:
        raise OperationalError("SELECT 1", {}, Exception("disk I/O error"))

    monkeypatch.setattr(services.engine, "connect", unreachable)
    response = http.get("/readyz")
    assert response.status_code == 503
    assert response.json()["store"] == "unreachable"


def test_readyz_reads_every_main_table_and_names_the_damaged_one(
    http: TestClient, services: Services, store_url: str
) -> None:
    """``SELECT 1`` still answers on a store whose movies table is damaged; ``/readyz`` must not."""
    if not store_url.startswith("sqlite"):
        pytest.skip("damages a SQLite file")
    assert http.get("/readyz").status_code == 200
    with services.engine.connect() as conn:
        root = conn.execute(
            text("SELECT rootpage FROM sqlite_master WHERE name = 'movies'")
        ).scalar_one()
        page_size = conn.execute(text("PRAGMA page_size")).scalar_one()
        conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))  # every page in the main file
    services.engine.dispose()  # no connection keeps the page cached
    path = Path(store_url.removeprefix("sqlite:///"))
    with path.open("r+b") as handle:
        handle.seek((root - 1) * page_size)
        handle.write(b"\xff" * page_size)
    response = http.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["store"] == "unreadable"
    assert set(body["problems"]) == {"movies"}
    assert "malformed" in body["problems"]["movies"]


def test_readyz_answers_in_bounded_time_when_the_store_hangs(
    config: AppConfig, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    release = threading.Event()

    def hanging(_engine: Engine) -> None:
        release.wait(timeout=30)

    monkeypatch.setattr(graph.app, "store_health", hanging)
    app = create_app(replace(config, readiness_timeout_seconds=0.05), services)
    try:
        with TestClient(app) as client:
            response = client.get("/readyz")
    finally:
        release.set()
    assert response.status_code == 503
    assert response.json()["store"] == "timeout"
    assert response.json()["problems"] == {"store": "no answer within 0.05 s"}


def test_missing_model_falls_back_to_popularity(
    config: AppConfig, store: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        recommender = load_recommender(store, config.models_dir)
    assert recommender.kind == "popularity"
    assert "no model artifact" in caplog.text
    services = build_services(config, recommender)
    with TestClient(create_app(config, services)) as client:
        assert client.get("/readyz").json()["model"]["kind"] == "popularity"
        body = client.get("/user/1/recommendations").json()
    expected = recommender.top_n(services.recommendations.user_ratings(1), 10)
    assert [movie["movieId"] for movie in body["movies"]] == [m for m, _ in expected]
    services.engine.dispose()


def test_an_artifact_of_an_older_format_falls_back_to_popularity(
    config: AppConfig, store: Engine, recommender: Recommender, caplog: pytest.LogCaptureFixture
) -> None:
    """A model trained by the previous release (format 2) is refused with the reason logged,
    and the server says in /readyz that it serves the popularity ranking."""
    with store.connect() as conn:
        catalog = np.array(catalog_movie_ids(conn), dtype=np.int64)
    folder = recommender.save(
        config.models_dir, {"catalog_fingerprint": catalog_fingerprint(catalog)}
    )
    meta = json.loads((folder / "meta.json").read_text())
    (folder / "meta.json").write_text(json.dumps({**meta, "format_version": 2}))
    with caplog.at_level(logging.WARNING):
        services = build_services(config)
    assert "format version 2, this movierec reads 3: run `movierec train`" in caplog.text
    with TestClient(create_app(config, services)) as client:
        assert client.get("/readyz").json()["model"] == {
            "kind": "popularity",
            "algorithm": "popularity-count",
            "version": None,
        }
    services.engine.dispose()


def test_web_folder_is_served_after_the_api(
    config: AppConfig, services: Services, tmp_path: Path
) -> None:
    web = tmp_path / "web"
    web.mkdir()
    (web / "index.html").write_text("<!doctype html><title>movierec</title>")
    (web / "app.js").write_text("export {};")
    with_web = AppConfig(**{**config.__dict__, "web_dir": web})
    with TestClient(create_app(with_web, services)) as client:
        assert "<title>movierec</title>" in client.get("/").text
        assert client.get("/app.js").headers["content-type"].startswith("text/javascript")
        assert client.get("/healthz").json() == {"status": "alive"}
        assert client.post("/graphql", json={"query": "{ genres }"}).json()["data"]["genres"]
        assert client.get("/user/1/movies").json()["status"] == 200


def test_without_a_web_folder_root_is_not_found(http: TestClient) -> None:
    assert http.get("/").status_code == 404


def test_access_log_is_one_json_object_per_request(
    http: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="movierec.access"):
        http.get("/user/1/movies", headers={"Authorization": "Bearer secret-token"})
    lines = [r.getMessage() for r in caplog.records if r.name == "movierec.access"]
    entry = json.loads(lines[-1])
    assert entry["method"] == "GET"
    assert entry["path"] == "/user/1/movies"
    assert entry["status"] == 200
    assert entry["ms"] >= 0
    assert entry["client"] == "testclient"
    assert "secret-token" not in lines[-1]


def test_login_does_not_stall_other_requests(
    http: TestClient, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While a login is stuck hashing, GraphQL and legacy reads still answer."""
    release = threading.Event()
    entered = threading.Event()
    real_login = services.accounts.login

    def slow_login(*args: object) -> object:
        entered.set()
        release.wait(10)
        return real_login(*args)

    monkeypatch.setattr(services.accounts, "login", slow_login)
    done: list[int] = []
    login = threading.Thread(
        target=lambda: done.append(
            http.post("/login", json={"username": "user1", "password": "pass"}).status_code
        )
    )
    login.start()
    try:
        assert entered.wait(10)
        assert http.get("/user/1/movies").status_code == 200
        assert http.post("/graphql", json={"query": "{ genres }"}).status_code == 200
        assert not done  # the login is still waiting
    finally:
        release.set()
        login.join(10)
    assert done == [200]
