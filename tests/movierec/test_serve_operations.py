"""`movierec serve --workers 2` as an operator sees it: metrics summed over both workers, JSON
logs on both streams, request ids, and the metrics folder gone after a stop.

One real server over a tiny store, without a model (so the workers serve the popularity
ranking and say so); started once for the module, stopped by the last test.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import delete

from data.db import open_store
from data.schema import ratings
from tests.graph.conftest import populate
from tests.graph.test_metrics import samples
from tests.live_server import free_port, stop, wait_for

START_TIMEOUT_S = 180
STOP_TIMEOUT_S = 30
PROBES = 5


@dataclass
class Served:
    process: subprocess.Popen[bytes]
    url: str
    stdout: Path
    stderr: Path
    tmp: Path

    def tail(self) -> str:
        return self.stderr.read_text(errors="replace")[-4000:]

    def metrics(self) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
        response = httpx.get(f"{self.url}/metrics", timeout=10)
        assert response.status_code == 200
        return samples(response.text)

    def metric_dirs(self) -> list[Path]:
        return sorted(self.tmp.glob("movierec-metrics-*"))


def _worker_pids(served: Served) -> set[str]:
    return {
        dict(labels)["pid"]
        for name, labels in served.metrics()
        if name == "movierec_model_version_timestamp_seconds"
    }


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    root = tmp_path_factory.mktemp("served")
    data = root / "data"
    data.mkdir()
    store = open_store(f"sqlite:///{data / 'movierec.sqlite3'}", create=True)
    populate(store)
    # One user's ratings cannot be fitted: the first start's training fails, and the workers
    # serve the popularity ranking (a trained model that does not load stops `serve` instead).
    with store.begin() as conn:
        conn.execute(delete(ratings).where(ratings.c.user_id != 1))
    store.dispose()
    tmp = root / "tmp"
    tmp.mkdir()
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("MOVIEREC_", "PROMETHEUS_"))
    }
    env.update({"MOVIEREC_DATA_DIR": str(data), "TMPDIR": str(tmp)})
    port = free_port()
    command = [sys.executable, "-m", "movierec", "serve", "--host", "127.0.0.1"]
    stdout, stderr = root / "stdout.log", root / "stderr.log"
    with stdout.open("wb") as out, stderr.open("wb") as err:
        process = subprocess.Popen(
            [*command, "--port", str(port), "--workers", "2"],
            cwd=root,
            env=env,
            stdout=out,
            stderr=err,
            start_new_session=True,
        )
    served = Served(process, f"http://127.0.0.1:{port}", stdout, stderr, tmp)
    try:
        # Each worker publishes its model as it starts: two pid series mean both are serving.
        wait_for(
            served.process,
            lambda: len(_worker_pids(served)) == 2,
            timeout=START_TIMEOUT_S,
            what="two workers not serving",
            log=served.tail,
            interval=0.5,
        )
        yield served
    finally:
        stop(process)


def _json_lines(path: Path) -> list[dict[str, Any]]:
    lines = path.read_text().splitlines()
    assert lines, f"{path.name} is empty"
    return [json.loads(line) for line in lines]  # fails on any line that is not JSON


def test_metrics_add_up_both_workers(served: Served) -> None:
    assert len(served.metric_dirs()) == 1, "one fresh metrics folder for this run"
    for index in range(PROBES):
        response = httpx.get(f"{served.url}/healthz", headers={"X-Request-ID": f"probe-{index}"})
        assert response.headers["x-request-id"] == f"probe-{index}"
    insane = httpx.get(f"{served.url}/healthz", headers={"X-Request-ID": "no spaces allowed"})
    assert insane.headers["x-request-id"] != "no spaces allowed"

    scraped = served.metrics()
    healthz = (("method", "GET"), ("route", "/healthz"), ("status", "200"))
    # Whichever worker answered each request, the scrape counts them all.
    assert scraped[("movierec_http_requests_total", healthz)] == PROBES + 1
    assert len(_worker_pids(served)) == 2
    assert scraped[("movierec_popularity_fallback", ())] == 1


def test_a_stop_leaves_json_logs_and_no_metrics_folder(served: Served) -> None:
    served.process.send_signal(signal.SIGTERM)
    assert served.process.wait(timeout=STOP_TIMEOUT_S) == 0, served.tail()
    assert served.metric_dirs() == []

    access = _json_lines(served.stdout)
    assert {line["logger"] for line in access} == {"movierec.access"}
    probes = [line for line in access if line["path"] == "/healthz"]
    assert {line["request_id"] for line in probes} >= {f"probe-{i}" for i in range(PROBES)}

    logs = _json_lines(served.stderr)
    assert all({"time", "level", "logger", "message", "request_id"} <= set(line) for line in logs)
    loggers = {line["logger"] for line in logs}
    assert "uvicorn.error" in loggers, "uvicorn's own lines are JSON too"
    fallback = [line for line in logs if "serving the popularity ranking" in line["message"]]
    assert len(fallback) == 2, "one warning per worker"
    assert all(line["level"] == "WARNING" for line in fallback)
