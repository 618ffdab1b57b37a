"""The typed request context every resolver receives: services, the viewer, DataLoaders."""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property
from typing import TypeVar

from starlette.requests import HTTPConnection
from strawberry.fastapi import BaseContext

from graph.errors import unauthenticated
from graph.loaders import Loaders
from graph.services.bundle import Services
from graph.threads import BlockingCalls

T = TypeVar("T")


class Context(BaseContext):
    def __init__(
        self, services: Services, threads: BlockingCalls, viewer_id: int | None, client: str
    ) -> None:
        super().__init__()
        self.services = services
        self.threads = threads
        self.viewer_id = viewer_id
        self.client = client

    @cached_property
    def loaders(self) -> Loaders:
        """Fresh per request, so batching never leaks one user's data into another's answer."""
        return Loaders(self.services, self.viewer_id, run=self.run)

    @property
    def bearer_token(self) -> str | None:
        """The token this request was sent with (``logout`` revokes exactly that one)."""
        return bearer_token(self.request)

    def require_viewer(self) -> int:
        if self.viewer_id is None:
            raise unauthenticated()
        return self.viewer_id

    async def run(self, fn: Callable[..., T], *args: object) -> T:
        """Call a blocking service method (SQL, hashing) in a worker thread."""
        return await self.threads.run(fn, *args)


def bearer_token(connection: HTTPConnection) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header (any case of "Bearer")."""
    scheme, _, token = connection.headers.get("authorization", "").partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


def client_address(connection: HTTPConnection) -> str:
    """The peer's address, the key of the per-address failed-login limit on both front ends."""
    return connection.client.host if connection.client else "unknown"
