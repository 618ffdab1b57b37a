"""The cap on objects per query (graph/limits.py): counted from `first` arguments, variables and
defaults included, across fragments, before anything executes."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from graphql import parse

from graph.config import AppConfig, GraphQLLimits
from graph.limits import count_nodes
from graph.schema import build_schema
from tests.graph.conftest import GraphQL, error_codes

SCHEMA = build_schema(GraphQLLimits())._schema


def nodes(query: str, variables: dict[str, object] | None = None, name: str | None = None) -> int:
    return count_nodes(SCHEMA, parse(query).definitions, name, variables or {})


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("{ genres }", 0),
        ("{ movies(first: 30) { edges { node { title } } } }", 30),
        ("{ movies { totalCount } }", 20),  # the schema's default first
        ("{ movies(first: 100) { edges { node { similar(first: 10) { id } } } } }", 1100),
        ("{ movie(id: 1) { similar(first: 5) { similar(first: 4) { id } } } }", 25),
        ("{ a: featured(first: 3) { id } b: trending(first: 4) { id } }", 7),
        ("{ movies(first: 0) { edges { node { similar(first: 99) { id } } } } }", 0),
    ],
)
def test_counts_every_object_sized_lists_can_return(query: str, expected: int) -> None:
    assert nodes(query) == expected


def test_counts_through_fragments_unions_and_variables() -> None:
    query = """
      query Page($n: Int!, $m: Int! = 7) {
        viewer { ...Rated } movie(id: 1) { similar(first: $m) { id } } }
      fragment Rated on User {
        ratings(first: $n) { edges { node { movie { similar(first: 2) { id } } } } } }
      mutation Rate { rateMovie(movieId: 1, rating: 4) { ... on RatingPayload {
        viewer { recommendations(first: 9) { id } } } } }
    """
    assert nodes(query, {"n": 10}, name="Page") == 10 + 10 * 2 + 7
    assert nodes(query, {"n": 10}, name="Rate") == 9


def test_a_query_asking_for_too_many_objects_is_refused_before_it_runs(
    gql: GraphQL, config: AppConfig
) -> None:
    limit = config.limits.max_nodes
    nested = "{ movie(id: 1) { similar(first: 100) { similar(first: 100) { title } } } }"
    assert nodes(nested) > limit
    result = gql(nested)
    assert result["data"] is None
    assert error_codes(result) == ["GRAPHQL_VALIDATION_FAILED"]
    assert f"the limit is {limit:,}" in result["errors"][0]["message"]


def test_the_limit_reads_variables(gql: GraphQL, config: AppConfig) -> None:
    query = "query($n: Int!) { movie(id: 1) { similar(first: $n) { similar(first: $n) { id } } } }"
    small = gql(query, {"n": 3})
    assert "errors" not in small
    assert small["data"]["movie"] is not None
    big = gql(query, {"n": 100})
    assert error_codes(big) == ["GRAPHQL_VALIDATION_FAILED"]
    assert nodes(query, {"n": 100}) > config.limits.max_nodes >= nodes(query, {"n": 3})


def test_a_batch_shares_one_budget(http: TestClient, config: AppConfig) -> None:
    """Each operation fits the cap; together they pass it, so the one that overdraws is refused."""
    limit = config.limits.max_nodes
    each = "{ movie(id: 1) { similar(first: 50) { similar(first: 50) { id } } } }"
    assert nodes(each) == 2550
    assert nodes(each) <= limit < 2 * nodes(each)
    response = http.post("/graphql", json=[{"query": each}, {"query": each}])
    assert response.status_code == 200
    results = response.json()
    refused = [r for r in results if "errors" in r]
    answered = [r for r in results if "errors" not in r]
    assert len(refused) == 1
    assert len(answered) == 1
    assert answered[0]["data"]["movie"]["similar"]
    assert error_codes(refused[0]) == ["GRAPHQL_VALIDATION_FAILED"]
    assert f"the limit is {limit:,} per request" in refused[0]["errors"][0]["message"]
    # Each on its own request is answered: the budget is per request, not per connection.
    for _ in range(2):
        assert "errors" not in http.post("/graphql", json={"query": each}).json()
