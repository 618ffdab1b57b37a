"""Running the app under uvicorn: uvloop, httptools, JSON logs, metrics shared by the workers.

Proxy headers are believed only from ``trusted_proxies``: uvicorn's own default trusts
127.0.0.1 (and the ``FORWARDED_ALLOW_IPS`` variable), which let any client on the same host
pick its address, and so a fresh per-address limit, with each X-Forwarded-For value.
"""

from __future__ import annotations

import gc
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn

from graph.logs import log_config
from graph.metrics import MULTIPROCESS_DIR_VARIABLE


def run_server(
    app: str, *, host: str, port: int, workers: int, log_level: str, trusted_proxies: str = ""
) -> None:
    """Serve the factory ``app`` ("module:function"), called once in every worker process.

    uvicorn applies the logging config in this process and again in each worker it starts
    (workers are fresh processes, without this one's logging set-up).
    """
    with shared_metrics_dir(workers):
        uvicorn.run(
            app,
            factory=True,
            host=host,
            port=port,
            workers=workers,
            loop="uvloop",
            http="httptools",
            access_log=False,  # graph.access_log writes ours
            log_config=log_config(log_level),
            log_level=log_level,
            timeout_graceful_shutdown=10,
            proxy_headers=bool(trusted_proxies),
            forwarded_allow_ips=trusted_proxies,
        )


def settle_heap() -> None:
    """Leave what a worker loaded at start-up out of garbage collection, and collect less often.

    A worker holds a few hundred thousand long-lived objects (modules, schema, catalog, model):
    every full collection walked them all, 0.3 to 0.4 s at a time on this loaded machine, and a
    heavy request set off several (half of the CPU of a 5,000-movie query went to the collector,
    bench/attack.py). Frozen, they are never walked again; and collecting the youngest objects
    every 10,000 allocations instead of Python's 700 spares a request's many short-lived ones.
    Measured on that query: 831 ms of CPU with Python's defaults, 555-651 ms frozen, 430-466 ms
    frozen with these thresholds. Called once per worker, after the app is built.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 50, 100)


@contextmanager
def shared_metrics_dir(workers: int) -> Iterator[None]:
    """With several workers, a fresh folder for their metric files, for this run only.

    Set here, before any worker starts, so that every worker imports prometheus-client in
    multiprocess mode and writes where a scrape (in any worker) reads. New each run, so no
    value of a past run is ever added in; removed when the server stops. One worker keeps its
    metrics in memory and needs none (this process imported prometheus-client already).
    """
    if workers <= 1:
        yield
        return
    folder = tempfile.mkdtemp(prefix="movierec-metrics-")
    previous = os.environ.get(MULTIPROCESS_DIR_VARIABLE)
    os.environ[MULTIPROCESS_DIR_VARIABLE] = folder
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop(MULTIPROCESS_DIR_VARIABLE, None)
        else:
            os.environ[MULTIPROCESS_DIR_VARIABLE] = previous
        shutil.rmtree(folder, ignore_errors=True)
