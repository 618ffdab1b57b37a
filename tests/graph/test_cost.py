"""The cost budget (graph/cost.py): counted from fields, objects and `first` arguments, variables
and defaults included, across fragments, before anything executes; one budget per request."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from graphql import parse

from graph.config import AppConfig, GraphQLLimits
from graph.cost import CALL_COST, operation_cost
from graph.schema import build_schema
from graph.services.bundle import Services
from tests.graph.conftest import GraphQL, error_codes

SCHEMA = build_schema(GraphQLLimits())._schema
CALL = 1 + CALL_COST  # a field taking `first`, called once


def cost(query: str, variables: dict[str, object] | None = None, name: str | None = None) -> int:
    return operation_cost(SCHEMA, parse(query).definitions, name, variables or {})


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("{ genres }", 1),
        ("{ genres __typename __schema { types { name } } }", 1),  # introspection is free
        ("{ movie(id: 1) { id title year } }", 4),
        # A connection is one object; its edges hold `first` of them.
        ("{ movies(first: 30) { edges { node { title } } } }", CALL + 1 + 30 * 2),
        ("{ movies { totalCount pageInfo { hasNextPage } } }", CALL + 1 + 2),  # default first
        (
            "{ movies(first: 100) { edges { node { similar(first: 10) { id } } } } }",
            CALL + 1 + 100 * (1 + CALL) + 1000,
        ),
        (
            "{ movie(id: 1) { similar(first: 5) { similar(first: 4) { id } } } }",
            1 + CALL + 5 * CALL + 20,
        ),
        ("{ a: featured(first: 3) { id } b: trending(first: 4) { id } }", 2 * CALL + 3 + 4),
        ("{ movies(first: 0) { edges { node { similar(first: 99) { id } } } } }", CALL + 1),
    ],
)
def test_costs_each_field_for_each_object_it_is_resolved_on(query: str, expected: int) -> None:
    assert cost(query) == expected


def test_costs_through_fragments_unions_interfaces_and_variables() -> None:
    query = """
      query Page($n: Int!, $m: Int! = 7) {
        viewer { ...Rated } movie(id: 1) { similar(first: $m) { id } } }
      fragment Rated on User {
        ratings(first: $n) { edges { node { movie { similar(first: 2) { id } } } } } }
      fragment Edges on RatingConnection { edges { node { rating } } }
      query Spread { viewer { ratings(first: 6) { ...Edges totalCount } } }
      mutation Rate { rateMovie(movieId: 1, rating: 4) { ... on RatingPayload {
        viewer { recommendations(first: 9) { id } } } ... on UserError { code message } } }
    """
    rated = CALL + 1 + 10 * (1 + 1 + CALL) + 10 * 2
    assert cost(query, {"n": 10}, name="Page") == 1 + rated + 1 + CALL + 7
    # A fragment on a connection: its edges take the size of the field it is spread under.
    assert cost(query, name="Spread") == 1 + CALL + (1 + 6 * 2) + 1
    assert cost(query, name="Rate") == 1 + (1 + CALL + 9) + 2


def test_a_query_over_budget_is_refused_before_it_runs(
    gql: GraphQL, config: AppConfig, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    called: list[int] = []
    monkeypatch.setattr(services.recommendations, "similar", lambda *args: called.append(1))
    limit = config.limits.max_cost
    nested = "{ movie(id: 1) { similar(first: 100) { similar(first: 100) { title } } } }"
    assert cost(nested) > limit
    result = gql(nested)
    assert called == []
    assert result["data"] is None
    assert error_codes(result) == ["COST_LIMIT_EXCEEDED"]
    error = result["errors"][0]
    assert f"this query costs {cost(nested):,}" in error["message"]
    assert f"the budget is {limit:,} per request" in error["message"]
    assert error["extensions"] == {
        "code": "COST_LIMIT_EXCEEDED",
        "cost": cost(nested),
        "budget": limit,
    }


def test_the_budget_reads_variables(gql: GraphQL, config: AppConfig) -> None:
    query = "query($n: Int!) { movie(id: 1) { similar(first: $n) { similar(first: $n) { id } } } }"
    small = gql(query, {"n": 3})
    assert "errors" not in small
    assert small["data"]["movie"] is not None
    big = gql(query, {"n": 100})
    assert error_codes(big) == ["COST_LIMIT_EXCEEDED"]
    assert cost(query, {"n": 100}) > config.limits.max_cost >= cost(query, {"n": 3})


def test_a_batch_shares_one_budget(http: TestClient, config: AppConfig) -> None:
    """Each operation fits the budget; together they pass it, so the one that overdraws is
    refused."""
    limit = config.limits.max_cost
    each = "{ movie(id: 1) { similar(first: 70) { similar(first: 70) { id } } } }"
    assert cost(each) == 1 + CALL + 70 * CALL + 70 * 70
    assert cost(each) <= limit < 2 * cost(each)
    response = http.post("/graphql", json=[{"query": each}, {"query": each}])
    assert response.status_code == 200
    results = response.json()
    refused = [r for r in results if "errors" in r]
    answered = [r for r in results if "errors" not in r]
    assert len(refused) == 1
    assert len(answered) == 1
    assert answered[0]["data"]["movie"]["similar"]
    assert error_codes(refused[0]) == ["COST_LIMIT_EXCEEDED"]
    message = refused[0]["errors"][0]["message"]
    assert f"operations cost {2 * cost(each):,} together" in message
    assert f"the budget is {limit:,} per request" in message
    # Each on its own request is answered: the budget is per request, not per connection.
    for _ in range(2):
        assert "errors" not in http.post("/graphql", json={"query": each}).json()


def test_a_batch_of_small_operations_is_answered_whole(http: TestClient) -> None:
    batch = [{"query": "{ movies(first: 50) { edges { node { id title } } } }"}] * 10
    response = http.post("/graphql", json=batch)
    assert all("errors" not in result for result in response.json())
