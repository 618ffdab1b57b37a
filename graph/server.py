"""Running the app under uvicorn: uvloop, httptools, our own access log instead of uvicorn's."""

from __future__ import annotations

import uvicorn


def run_server(app: str, *, host: str, port: int, workers: int, log_level: str) -> None:
    """Serve the factory ``app`` ("module:function"), called once in every worker process."""
    uvicorn.run(
        app,
        factory=True,
        host=host,
        port=port,
        workers=workers,
        loop="uvloop",
        http="httptools",
        access_log=False,
        log_level=log_level,
        timeout_graceful_shutdown=10,
    )
