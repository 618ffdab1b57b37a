"""Parsing and validation (graph/validation.py): the crowding limit before graphql-core's rules,
both steps off the event loop, once per query text."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import pytest
from graphql import ASTValidationRule, DocumentNode, GraphQLError, GraphQLSchema, parse

from graph import validation
from graph.config import GraphQLLimits
from graph.limits import crowding
from graph.validation import CACHED_TEXT_CHARS, ON_LOOP_CHARS
from tests.graph.conftest import GraphQL, error_codes

LIMITS = GraphQLLimits()


def crowded(query: str) -> str | None:
    return crowding(parse(query), LIMITS.max_same_name_fields, LIMITS.max_expanded_fields)


def tree(fanout: int, depth: int) -> str:
    """``similar`` ``fanout`` times at each of ``depth`` levels: fanout^depth fields answer at
    the deepest path, all valid, and graphql-core compares them pairwise."""
    inner = "id"
    for _ in range(depth):
        inner = " ".join(f"similar {{ {inner} }}" for _ in range(fanout))
    return f"{{ movie(id: 1) {{ {inner} }} }}"


@pytest.fixture
def validated(monkeypatch: pytest.MonkeyPatch) -> list[DocumentNode]:
    """The documents graphql-core's rules are run on."""
    seen: list[DocumentNode] = []
    validate = validation.validate_document

    def recording(
        schema: GraphQLSchema, document: DocumentNode, rules: Sequence[type[ASTValidationRule]]
    ) -> list[GraphQLError]:
        seen.append(document)
        return validate(schema, document, tuple(rules))

    monkeypatch.setattr(validation, "validate_document", recording)
    return seen


@pytest.mark.parametrize(
    ("query", "where", "count"),
    [
        ("{ " + "genres " * 1990 + "}", "genres", 1990),
        ("{ " + " ".join(f"movie(id: {i}) {{ id }}" for i in range(190)) + " }", "movie", 190),
        (tree(2, 8), "movie.similar.similar.similar.similar", 16),
        (
            "{ ...A ...B ...C ... on Query { genres } genres } "
            + " ".join(f"fragment {f} on Query {{ genres genres genres }}" for f in "ABC"),
            "genres",
            11,
        ),
    ],
    ids=["identical", "conflicting", "nested", "fragments"],
)
def test_many_fields_at_one_place_are_refused_before_validation(
    gql: GraphQL, validated: list[DocumentNode], query: str, where: str, count: int
) -> None:
    result = gql(query)
    assert result["data"] is None
    assert error_codes(result) == ["GRAPHQL_VALIDATION_FAILED"]
    assert result["errors"][0]["message"] == (
        f"{count} fields answer at `{where}`; at most {LIMITS.max_same_name_fields} may share "
        "one place in the answer: ask for each field once"
    )
    assert validated == []


def test_fields_at_one_place_within_the_limit_are_validated_and_answered(
    gql: GraphQL, validated: list[DocumentNode]
) -> None:
    limit = LIMITS.max_same_name_fields
    query = "{ " + "genres " * limit + "movie(id: 1) { ...F id ...F } } fragment F on Movie { id }"
    assert crowded(query) is None
    result = gql(query)
    assert "errors" not in result
    assert result["data"]["movie"] == {"id": 1}
    assert len(validated) == 1


def test_a_fragment_counts_once_per_place_it_is_spread() -> None:
    """As graphql-core merges it: spreading one fragment 50 times adds its fields once."""
    assert crowded("{ " + "...F " * 50 + "} fragment F on Query { genres }") is None
    spread_apart = (
        "{ "
        + " ".join(f"...F{i}" for i in range(11))
        + " } "
        + " ".join(f"fragment F{i} on Query {{ genres }}" for i in range(11))
    )
    assert crowded(spread_apart) == (
        "11 fields answer at `genres`; at most 10 may share one place in the answer: ask for "
        "each field once"
    )


def test_a_document_expanding_to_too_many_fields_is_refused() -> None:
    """A fragment spread at many places counts at each; the walk stops at the limit."""
    fields = " ".join(f"f{i}: title" for i in range(40))
    nested = "similar { ...F " * 60 + "}" * 60
    query = f"{{ movie(id: 1) {{ {nested} }} }} fragment F on Movie {{ {fields} }}"
    assert crowded(query) == (
        f"the document asks for more than {LIMITS.max_expanded_fields:,} fields once its "
        "fragments are spread: ask for less, or split it"
    )


@pytest.mark.parametrize(
    ("padding", "in_a_thread"), [(ON_LOOP_CHARS + 1, True), (0, False)], ids=["long", "short"]
)
def test_long_texts_are_parsed_and_validated_off_the_event_loop(
    gql: GraphQL, monkeypatch: pytest.MonkeyPatch, padding: int, in_a_thread: bool
) -> None:
    loops: list[bool] = []
    parse_document, check = validation.parse, validation.check

    def running_loop() -> bool:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return False
        return True

    def parsing(*args: Any, **kwargs: Any) -> DocumentNode:
        loops.append(running_loop())
        return parse_document(*args, **kwargs)

    def checking(*args: Any) -> list[GraphQLError]:
        loops.append(running_loop())
        return check(*args)

    monkeypatch.setattr(validation, "parse", parsing)
    monkeypatch.setattr(validation, "check", checking)
    assert gql("{ genres }" + " " * padding)["data"]["genres"]
    assert loops == [not in_a_thread] * 2


def test_a_query_text_is_parsed_and_validated_once(
    gql: GraphQL, validated: list[DocumentNode]
) -> None:
    query = "{ movie(id: 2) { title } }"
    for _ in range(3):
        assert gql(query)["data"]["movie"]["title"] == "Film 2"
    assert len(validated) == 1
    # Errors are remembered too.
    for _ in range(2):
        assert error_codes(gql("{ noSuchField }")) == ["GRAPHQL_VALIDATION_FAILED"]
    assert len(validated) == 2


def test_long_query_texts_are_not_kept(gql: GraphQL, validated: list[DocumentNode]) -> None:
    query = "{ genres }" + " " * CACHED_TEXT_CHARS
    for _ in range(2):
        assert gql(query)["data"]["genres"]
    assert len(validated) == 2
