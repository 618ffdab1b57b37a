"""Query fields of the accounts domain."""

from __future__ import annotations

import strawberry

from graph.accounts.user import User
from graph.context import Info
from graph.fields import field
from graph.permissions import IsAuthenticated, requires


@strawberry.type
class AccountQueries:
    @field(
        description="The signed-in user; null without a valid token.",
        extensions=requires(IsAuthenticated(), else_null=True),
    )
    def viewer(self, info: Info) -> User | None:
        # Read with the token (graph.services.tokens): no query of its own.
        viewer = info.context.authenticated
        return User(id=viewer.user_id, username=viewer.username)
