"""A cap on request bodies, enforced while they arrive, on every route, before any parsing.

Checking the size of a body already read protects nothing: a 500 MB body has cost 500 MB by
then (legacy ``/login`` read any size; eight 20 MB usernames grew the workers by 140 MB). This
middleware refuses a declared ``Content-Length`` over the limit before reading a byte, and counts
the bytes of a body sent without one (chunked), refusing once the count passes the limit.
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.datastructures import Headers
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class _BodyTooLargeError(Exception):
    """Raised out of ``receive`` into the app, and caught back here, once over the limit."""


class BodyLimit:
    """``refuse(path, message)`` builds the 413 in the envelope the route's clients expect."""

    def __init__(
        self, app: ASGIApp, max_bytes: int, refuse: Callable[[str, str], Response]
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.refuse = refuse

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        message = f"request body over {self.max_bytes:,} bytes"
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            await self.refuse(scope["path"], message)(scope, receive, send)
            return
        received = 0
        responded = False

        async def counted_receive() -> Message:
            nonlocal received
            received_message = await receive()
            if received_message["type"] == "http.request":
                received += len(received_message.get("body", b""))
                if received > self.max_bytes:
                    raise _BodyTooLargeError
            return received_message

        async def watched_send(sent: Message) -> None:
            nonlocal responded
            responded = responded or sent["type"] == "http.response.start"
            await send(sent)

        try:
            await self.app(scope, counted_receive, watched_send)
        except _BodyTooLargeError:
            if responded:  # an app that answers before reading its body: nothing to refuse
                raise
            await self.refuse(scope["path"], message)(scope, receive, send)
