"""The typed request context every resolver receives: services, the viewer, DataLoaders.

``Info`` is the one alias resolvers annotate ``info`` with, so they see this context's type.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import cached_property
from typing import TypeVar

import strawberry
from starlette.requests import HTTPConnection
from strawberry.extensions import SchemaExtension
from strawberry.fastapi import BaseContext
from strawberry.types.graphql import OperationType

from graph.cost import RequestBudget
from graph.loaders import Loaders
from graph.services.bundle import Services
from graph.services.ratelimit import MAX_VALUE_LENGTH
from graph.services.tokens import SignedIn
from graph.threads import BlockingCalls

T = TypeVar("T")


class Context(BaseContext):
    def __init__(
        self,
        services: Services,
        threads: BlockingCalls,
        viewer: SignedIn | None,
        client: str,
        budget: RequestBudget,
        bearer_token: str | None = None,
    ) -> None:
        super().__init__()
        self.services = services
        self.threads = threads
        self.viewer = viewer
        self.viewer_id = None if viewer is None else viewer.user_id
        self.client = client
        # The token this request was sent with, the one ``viewer`` was resolved from
        # (``logout`` revokes exactly that one).
        self.bearer_token = bearer_token
        self._own_accounts: set[int] = set() if viewer is None else {viewer.user_id}
        # One per HTTP request, shared by a batch's operations (graph.cost).
        self.budget = budget
        # The viewer's ranking version read with their token, until a mutation of this request
        # starts (``Mutations``): its writes change it.
        self._viewer_version: tuple[int | None] | None = (
            None if viewer is None else (viewer.ranking_version,)
        )

    @cached_property
    def loaders(self) -> Loaders:
        """Fresh per request, so batching never leaks one user's data into another's answer."""
        return Loaders(self.services, self.viewer_id, run=self.run)

    @property
    def authenticated(self) -> SignedIn:
        """The viewer, in a resolver whose field the ``IsAuthenticated`` permission guards.

        Signed out, the permission has refused the field before its resolver runs; reaching
        here without a viewer means a field lacks the permission, a bug that fails closed (an
        internal error, logged) rather than serving anything.
        """
        if self.viewer is None:
            raise PermissionError("a field reading the viewer lacks IsAuthenticated")
        return self.viewer

    @property
    def authenticated_id(self) -> int:
        """The viewer's id, on the same terms as ``authenticated``."""
        return self.authenticated.user_id

    def known_ranking_version(self, user_id: int) -> tuple[int | None] | None:
        """``user_id``'s ranking version as read with the viewer's token, in a 1-tuple (the
        version itself may be None: nothing rated or saved); None when not known here: another
        user, or a mutation of this request has started since."""
        return self._viewer_version if user_id == self.viewer_id else None

    def forget_known_versions(self) -> None:
        self._viewer_version = None

    def add_own_account(self, user_id: int) -> None:
        """This request just proved it is ``user_id`` (a login or sign-up): its answer may show
        that account's data. The viewer, and so what the request may change, stays as it was."""
        self._own_accounts.add(user_id)

    def is_own_account(self, user_id: int) -> bool:
        return user_id in self._own_accounts

    async def run(self, fn: Callable[..., T], *args: object) -> T:
        """Call a blocking service method (SQL, hashing) in a worker thread."""
        return await self.threads.run(fn, *args)


Info = strawberry.Info[Context, None]


def bearer_token(connection: HTTPConnection) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header (any case of "Bearer")."""
    scheme, _, token = connection.headers.get("authorization", "").partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


def client_address(connection: HTTPConnection) -> str:
    """The client's address, the key of the per-address limits on both front ends.

    Headers are never read here: the address is the TCP peer's, or what uvicorn's proxy
    middleware put in its place for a peer named in ``trusted_proxies`` (graph/server.py).
    Cut to the limits' key length, as a trusted proxy's header is still text of any length.
    """
    host = connection.client.host if connection.client else "unknown"
    return host[:MAX_VALUE_LENGTH]


class Mutations(SchemaExtension):
    """Drops what the context read at the request's start (the viewer's ranking version) when
    a mutation starts: its resolvers, and those of operations batched with it that run after,
    read the store again. A batch's operations run concurrently, so one that ran before may
    have used the old value, as it would have in a request of its own sent at the same time."""

    def on_execute(self) -> Iterator[None]:
        execution = self.execution_context
        if execution.operation_type is OperationType.MUTATION:
            context: Context = execution.context
            context.forget_known_versions()
        yield
