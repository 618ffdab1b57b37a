"""``@field(...)`` and ``@mutation(...)``: Strawberry's resolver decorators with options, typed.

Bare ``@strawberry.field`` is typed, but ``@strawberry.field(description=...)`` is not: the same
call without a resolver also declares a plain field (``title: str = strawberry.field(...)``), so
Strawberry types its result ``Any`` and mypy --strict rejects every resolver it decorates as
"untyped" (strawberry-graphql/strawberry#1929, open; its plugin does not cover it). These take
the same options and hand the resolver to Strawberry's typed form,
``strawberry.field(resolver, **options)``, which builds the very same ``StrawberryField``.

Plain fields keep ``strawberry.field(...)``; resolvers without options keep bare
``@strawberry.field``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypedDict, Unpack

import strawberry
from strawberry.extensions.field_extension import FieldExtension
from strawberry.permission import BasePermission
from strawberry.types.field import StrawberryField

Resolver = Callable[..., object]
ResolverDecorator = Callable[[Resolver], StrawberryField]


class FieldOptions(TypedDict, total=False):
    """Strawberry's options for a field with a resolver, under its names and types."""

    name: str
    description: str
    deprecation_reason: str
    permission_classes: list[type[BasePermission]]
    directives: Sequence[object]
    extensions: list[FieldExtension]
    graphql_type: Any


def field(**options: Unpack[FieldOptions]) -> ResolverDecorator:
    """``@strawberry.field(**options)`` on a resolver."""
    return lambda resolver: strawberry.field(resolver, **options)


def mutation(**options: Unpack[FieldOptions]) -> ResolverDecorator:
    """``@strawberry.mutation(**options)`` on a resolver."""
    return lambda resolver: strawberry.mutation(resolver, **options)
