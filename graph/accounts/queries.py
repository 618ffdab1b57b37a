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
    async def viewer(self, info: Info) -> User | None:
        context = info.context
        row = await context.run(context.services.accounts.user, context.authenticated_id)
        return User.from_row(row) if row else None
