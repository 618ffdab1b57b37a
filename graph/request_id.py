"""A request id on every request: in each log line of the request and in its X-Request-ID header.

An id a client or a proxy in front sends is kept, so one id follows a request through every hop;
it is kept only when it is short and made of safe characters, because it lands in log lines and
in a response header, where a hostile value must not forge or bloat anything. Otherwise the
request gets a fresh one.

The id lives in a ``ContextVar``: log calls deep in a resolver, in a worker thread
(``graph.threads`` copies the context into it) or in the 500 handler read it without being
handed it.
"""

from __future__ import annotations

import re
import uuid
from contextvars import ContextVar

from starlette.types import ASGIApp, Message, Receive, Scope, Send

HEADER = "X-Request-ID"
MAX_LENGTH = 128
_SANE = re.compile(rf"[A-Za-z0-9._:-]{{1,{MAX_LENGTH}}}")
_HEADER_KEY = HEADER.lower().encode("latin-1")

REQUEST_ID: ContextVar[str | None] = ContextVar("request_id", default=None)


def current_request_id() -> str | None:
    """The id of the request being served, or None outside a request."""
    return REQUEST_ID.get()


def choose_request_id(incoming: str | None) -> str:
    """The client's id when it is sane, else a new random one."""
    if incoming is not None and _SANE.fullmatch(incoming):
        return incoming
    return uuid.uuid4().hex


class RequestId:
    """Plain ASGI middleware (no task per request, like ``graph.access_log``)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = next(
            (value.decode("latin-1") for key, value in scope["headers"] if key == _HEADER_KEY),
            None,
        )
        request_id = choose_request_id(incoming)
        # Not reset afterwards on purpose: the 500 handler runs outside this middleware (in
        # Starlette's ServerErrorMiddleware) but in the same task, and still needs the id. Each
        # request is its own task with its own copy of the context, so nothing leaks across.
        REQUEST_ID.set(request_id)
        header = (_HEADER_KEY, request_id.encode("latin-1"))

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), header]
            await send(message)

        await self.app(scope, receive, send_with_id)
