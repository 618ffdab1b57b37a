"""Access declared on fields: IsAuthenticated on what needs a viewer, IsOwnAccount on a User's
private fields, so a field added later that reaches another account fails closed."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import strawberry
from sqlalchemy import Engine, func, select
from strawberry.permission import BasePermission, PermissionExtension
from strawberry.tools import merge_types
from strawberry.types.base import StrawberryObjectDefinition

from data.schema import ratings
from graph.accounts.user import User
from graph.config import GraphQLLimits
from graph.context import Context, Info
from graph.cost import RequestBudget
from graph.permissions import IsAuthenticated, IsOwnAccount
from graph.schema import Mutation, Query, build_schema
from graph.services.bundle import Services
from graph.services.tokens import SignedIn
from graph.threads import BlockingCalls
from tests.graph.conftest import DEMO_PASSWORD, GraphQL, error_codes

SIGNED_OUT_MESSAGE = "sign in first: send Authorization: Bearer <token>"

# Every root field IsAuthenticated refuses outright, with an operation that reaches it.
GUARDED = {
    ("Query", "recommendations"): "{ recommendations { id } }",
    ("Query", "pagedRecommendations"): "{ pagedRecommendations { totalCount } }",
    ("Mutation", "logout"): "mutation { logout }",
    ("Mutation", "rateMovie"): "mutation { rateMovie(movieId: 1, rating: 4.0) { __typename } }",
    ("Mutation", "removeRating"): "mutation { removeRating(movieId: 2) { __typename } }",
    ("Mutation", "addToWatchlist"): "mutation { addToWatchlist(movieId: 1) { __typename } }",
    ("Mutation", "removeFromWatchlist"): (
        "mutation { removeFromWatchlist(movieId: 1) { __typename } }"
    ),
}


def guarded_fields(permission: type[BasePermission], *, silent: bool) -> set[tuple[str, str]]:
    """(type, field) of every field carrying ``permission``, failing silently or not."""
    schema = build_schema(GraphQLLimits())
    found = set()
    for type_name in ("Query", "Mutation", "User", "Movie", "Rating", "RatingPayload"):
        definition = schema.get_type_by_name(type_name)
        assert isinstance(definition, StrawberryObjectDefinition)
        for field in definition.fields:
            for extension in field.extensions:
                if (
                    isinstance(extension, PermissionExtension)
                    and extension.fail_silently is silent
                    and any(isinstance(p, permission) for p in extension.permissions)
                ):
                    found.add((type_name, schema.config.name_converter.get_graphql_name(field)))
    return found


def test_the_guarded_fields_are_the_ones_listed() -> None:
    assert guarded_fields(IsAuthenticated, silent=False) == set(GUARDED)
    assert guarded_fields(IsAuthenticated, silent=True) == {("Query", "viewer")}
    assert guarded_fields(IsOwnAccount, silent=False) == {
        ("User", "ratingCount"),
        ("User", "ratings"),
        ("User", "recommendations"),
        ("User", "watchlist"),
    }


@pytest.mark.parametrize("field", sorted(GUARDED))
def test_guarded_fields_refuse_without_a_token(
    gql: GraphQL, store: Engine, field: tuple[str, str]
) -> None:
    with store.connect() as conn:
        before = conn.execute(select(func.count()).select_from(ratings)).scalar_one()
    result = gql(GUARDED[field])
    assert result["data"] is None
    [error] = result["errors"]
    assert error["extensions"] == {"code": "UNAUTHENTICATED"}
    assert error["message"] == SIGNED_OUT_MESSAGE
    assert error["path"] == [field[1]]
    with store.connect() as conn:
        assert conn.execute(select(func.count()).select_from(ratings)).scalar_one() == before


def test_a_login_shows_its_account_but_signs_nothing_else_in(gql: GraphQL) -> None:
    result = gql(
        """mutation($p: String!) {
          login(username: "user2", password: $p) { ... on AuthPayload { user { ratingCount } } }
          rateMovie(movieId: 1, rating: 4.0) { __typename }
        }""",
        {"p": DEMO_PASSWORD},
    )
    assert result["data"] is None  # rateMovie's error nulls the whole mutation
    assert error_codes(result) == ["UNAUTHENTICATED"]
    assert result["errors"][0]["path"] == ["rateMovie"]
    alone = gql(
        """mutation($p: String!) {
          login(username: "user2", password: $p) { ... on AuthPayload { user { ratingCount } } }
        }""",
        {"p": DEMO_PASSWORD},
    )
    assert alone == {"data": {"login": {"user": {"ratingCount": 12}}}}


@strawberry.type
class AnyUserQuery:
    """What a careless future field would do: hand out any account's User."""

    @strawberry.field
    async def user(self, info: Info, id: int) -> User | None:
        row = await info.context.run(info.context.services.accounts.user, id)
        return User.from_row(row) if row else None


SPY_SCHEMA = strawberry.Schema(query=merge_types("Query", (Query, AnyUserQuery)), mutation=Mutation)


def run_spy(services: Services, query: str, viewer_id: int | None) -> dict[str, Any]:
    """``query`` against the schema plus ``user(id:)``, as ``viewer_id`` (None: signed out)."""
    context = Context(
        services,
        BlockingCalls(),
        viewer=None if viewer_id is None else SignedIn(viewer_id, f"user{viewer_id}"),
        client="test",
        budget=RequestBudget(GraphQLLimits().max_cost, GraphQLLimits().max_loaded_fields),
    )
    result = asyncio.run(SPY_SCHEMA.execute(query, context_value=context))
    errors = [{"path": e.path, "extensions": e.extensions} for e in result.errors or []]
    return {"data": result.data, "errors": errors}


@pytest.mark.parametrize("viewer_id", [None, 2])
@pytest.mark.parametrize(
    "field",
    ["ratingCount", "ratings { totalCount }", "recommendations { id }", "watchlist { totalCount }"],
)
def test_another_users_private_fields_fail_closed(
    services: Services, viewer_id: int | None, field: str
) -> None:
    result = run_spy(services, f"{{ user(id: 3) {{ id username {field} }} }}", viewer_id)
    assert result["data"] == {"user": None}
    assert result["errors"] == [
        {"path": ["user", field.split()[0]], "extensions": {"code": "FORBIDDEN"}}
    ]


def test_own_account_through_the_same_field_is_readable(services: Services) -> None:
    result = run_spy(services, "{ user(id: 2) { id username ratingCount } }", 2)
    assert result == {
        "data": {"user": {"id": 2, "username": "user2", "ratingCount": 12}},
        "errors": [],
    }
    public = run_spy(services, "{ user(id: 3) { id username } }", 2)
    assert public["data"] == {"user": {"id": 3, "username": "user3"}}


def test_a_resolver_reading_the_viewer_without_its_permission_fails_closed(
    services: Services,
) -> None:
    context = Context(
        services,
        BlockingCalls(),
        viewer=None,
        client="test",
        budget=RequestBudget(GraphQLLimits().max_cost, GraphQLLimits().max_loaded_fields),
    )
    with pytest.raises(PermissionError, match="IsAuthenticated"):
        _ = context.authenticated_id
    assert (
        Context(
            services,
            BlockingCalls(),
            viewer=SignedIn(7, "user7"),
            client="test",
            budget=RequestBudget(GraphQLLimits().max_cost, GraphQLLimits().max_loaded_fields),
        ).authenticated_id
        == 7
    )
