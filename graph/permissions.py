"""Who may resolve a field, declared on the field rather than checked inside its resolver.

A field that reads or changes the viewer's data carries ``IsAuthenticated``; a field of ``User``
that reads an account's private data carries ``IsOwnAccount``. Strawberry runs the check before
the resolver, and the check looks at the object being resolved, not at how it was reached: a
``User`` handed out for someone else (say by a future ``user(id:)`` field) answers FORBIDDEN on
those fields instead of that person's ratings.
"""

from __future__ import annotations

from typing import Any

from strawberry.extensions import FieldExtension
from strawberry.permission import BasePermission, PermissionExtension

from graph.context import Info
from graph.errors import forbidden, unauthenticated


class IsAuthenticated(BasePermission):
    """The request carries a valid token: UNAUTHENTICATED otherwise."""

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        return info.context.viewer_id is not None

    def on_unauthorized(self) -> None:
        raise unauthenticated()


class IsOwnAccount(BasePermission):
    """The ``User`` being resolved is the viewer, or the account this request just signed in
    to (a login's payload): FORBIDDEN otherwise."""

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        return info.context.is_own_account(source.id)

    def on_unauthorized(self) -> None:
        raise forbidden()


def requires(permission: BasePermission, *, else_null: bool = False) -> list[FieldExtension]:
    """A field's ``extensions`` for one permission; ``else_null`` answers null, not an error.

    Without schema directives: ``schema.graphql`` is the clients' contract, and who may read a
    field is the server's business (each field's description says when it needs a sign-in).
    """
    return [
        PermissionExtension(permissions=[permission], fail_silently=else_null, use_directives=False)
    ]
