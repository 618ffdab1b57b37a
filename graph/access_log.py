"""Each finished request, recorded where an operator looks: an access line and the request metrics.

The access line is one JSON object (method, path, status, ms, client) among the JSON logs of
``graph.logs``, on stdout. The metrics get the route template and the same duration
(``graph.metrics.request_finished``). One middleware times both, so they cannot disagree.

A plain ASGI middleware rather than Starlette's BaseHTTPMiddleware: it adds no task per request,
which matters at a thousand requests a second.
"""

from __future__ import annotations

import logging
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from graph import metrics
from graph.logs import Fields

log = logging.getLogger("movierec.access")


class AccessLog:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            seconds = time.perf_counter() - started
            metrics.request_finished(scope, status, seconds)
            if log.isEnabledFor(logging.INFO):
                client = scope.get("client")
                log.info(
                    Fields(
                        f"{scope['method']} {scope['path']} {status}",
                        method=scope["method"],
                        path=scope["path"],
                        status=status,
                        ms=round(seconds * 1000, 2),
                        client=client[0] if client else None,
                    )
                )
