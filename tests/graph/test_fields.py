"""graph.fields' typed decorators build the field Strawberry's own decorators build."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.permission import BasePermission, PermissionExtension

from graph.fields import field, mutation


class Nobody(BasePermission):
    message = "Nobody may."

    def has_permission(self, source: Any, info: Any, **kwargs: Any) -> bool:
        return False


def _schema(make_field: Any, make_mutation: Any) -> strawberry.Schema:
    @strawberry.type
    class Query:
        @make_field(name="renamed", description="Read me.", deprecation_reason="Use another.")
        def value(self) -> int:
            return 1

        @make_field(
            graphql_type=str | None,
            extensions=[PermissionExtension(permissions=[Nobody()], fail_silently=True)],
        )
        def guarded(self) -> object:
            return "secret"

    @strawberry.type
    class Mutation:
        @make_mutation(description="Change it.")
        def change(self, to: int) -> int:
            return to

    return strawberry.Schema(query=Query, mutation=Mutation)


def test_field_and_mutation_give_the_schema_strawberrys_decorators_give() -> None:
    ours = _schema(field, mutation)
    assert str(ours) == str(_schema(strawberry.field, strawberry.mutation))
    assert '"""Read me."""\n  renamed: Int! @deprecated(reason: "Use another.")' in str(ours)
    assert '"""Change it."""\n  change(to: Int!): Int!' in str(ours)


def test_the_options_act_when_resolving() -> None:
    result = strawberry.Schema.execute_sync(_schema(field, mutation), "{ renamed guarded }")
    # The permission extension nulls the guarded field without running its resolver.
    assert result.errors is None
    assert result.data == {"renamed": 1, "guarded": None}
