"""Retrain while serving: a real two-worker server under requests switches to a newly published
artifact, every worker, with no failed request.

The switch is observed, not waited for by the clock: each worker publishes the version it
serves as a metric with its pid, so the test waits until both pids show the new one.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import httpx
import numpy as np
import pytest
from sqlalchemy import Engine

from data.db import open_store
from data.movies import catalog_movie_ids
from data.ratings import ratings_frame
from recommender.artifact import catalog_fingerprint
from recommender.models.puresvd import PureSVDParams
from recommender.models.temporal import TemporalParams
from recommender.models.temporal_blend import TemporalBlendParams
from recommender.training import ServedConfig, fit_recommender
from tests.graph.conftest import populate
from tests.live_server import free_port, stop, wait_for
from tests.movierec.test_serve_operations import Served

SWITCH_TIMEOUT_S = 120
START_TIMEOUT_S = 180
CONFIG = ServedConfig(
    ranker=PureSVDParams(factors=4), rating=TemporalBlendParams(TemporalParams(factors=4, epochs=5))
)


def publish(store: Engine, models: Path, seed: int) -> tuple[float, str]:
    """Train on the store and write a new artifact; returns its creation time (what the
    version metric shows) and its version."""
    with store.connect() as conn:
        frame = ratings_frame(conn)
        catalog = np.array(catalog_movie_ids(conn), dtype=np.int64)
    model = fit_recommender(frame, CONFIG, seed=seed, catalog_movie_ids=catalog)
    folder = model.save(models, {"catalog_fingerprint": catalog_fingerprint(catalog)})
    meta = json.loads((folder / "meta.json").read_text())
    return datetime.fromisoformat(meta["created"]).timestamp(), meta["version"]


def served_versions(served: Served) -> dict[str, float]:
    """The model version timestamp each worker (by pid) publishes."""
    return {
        dict(labels)["pid"]: value
        for (name, labels), value in served.metrics().items()
        if name == "movierec_model_version_timestamp_seconds"
    }


def wait_until_both_serve(served: Served, created: float, timeout: float) -> None:
    def both_on_it() -> bool:
        versions = served_versions(served)
        return len(versions) == 2 and all(abs(v - created) < 1e-3 for v in versions.values())

    wait_for(
        served.process,
        both_on_it,
        timeout=timeout,
        what="both workers not on the new model",
        log=served.tail,
    )


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[Served, Engine, Path]]:
    data = tmp_path / "data"
    data.mkdir()
    store = open_store(f"sqlite:///{data / 'movierec.sqlite3'}", create=True)
    populate(store)
    models = data / "models"
    created, _ = publish(store, models, seed=1)
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("MOVIEREC_", "PROMETHEUS_"))
    }
    env.update(
        {"MOVIEREC_DATA_DIR": str(data), "TMPDIR": str(tmp), "MOVIEREC_MODEL_CHECK_SECONDS": "0.2"}
    )
    port = free_port()
    command = [sys.executable, "-m", "movierec", "serve", "--host", "127.0.0.1"]
    stdout, stderr = tmp_path / "stdout.log", tmp_path / "stderr.log"
    with stdout.open("wb") as out, stderr.open("wb") as err:
        process = subprocess.Popen(
            [*command, "--port", str(port), "--workers", "2"],
            env=env,
            stdout=out,
            stderr=err,
            start_new_session=True,
        )
    served = Served(process, f"http://127.0.0.1:{port}", stdout, stderr, tmp)
    try:
        wait_until_both_serve(served, created, START_TIMEOUT_S)
        yield served, store, models
    finally:
        stop(process)
        store.dispose()


def test_every_worker_switches_under_load_without_a_failed_request(
    server: tuple[Served, Engine, Path],
) -> None:
    served, store, models = server
    failures: list[str] = []
    answered = 0
    stop = threading.Event()

    def load() -> None:
        nonlocal answered
        with httpx.Client(base_url=served.url, timeout=30) as client:
            while not stop.is_set():
                try:
                    response = client.get("/user/1/recommendations")
                except httpx.HTTPError as exc:
                    failures.append(repr(exc))
                    continue
                if response.status_code != 200 or len(response.json()["movies"]) != 10:
                    failures.append(f"{response.status_code} {response.text[:200]}")
                answered += 1

    worker = threading.Thread(target=load)
    worker.start()
    try:
        created, version = publish(store, models, seed=2)
        before_switch = answered
        wait_until_both_serve(served, created, SWITCH_TIMEOUT_S)
        after_switch = answered
        while answered < after_switch + 20 and worker.is_alive():
            time.sleep(0.05)
    finally:
        stop.set()
        worker.join()
    assert failures == []
    assert answered > before_switch, "requests were answered while the workers switched"
    assert answered >= after_switch + 20, "and after"
    ready = httpx.get(f"{served.url}/readyz", timeout=10).json()
    assert ready["model"]["version"] == version
