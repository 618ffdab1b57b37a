"""The cost budget (graph/cost.py): counted from fields, objects and `first` arguments, variables
and defaults included, across fragments, before anything executes; one budget per request."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from graphql import (
    GraphQLEnumType,
    GraphQLObjectType,
    NamedTypeNode,
    OperationDefinitionNode,
    get_introspection_query,
    parse,
    validate,
)

import graph
from graph.config import AppConfig, GraphQLLimits
from graph.cost import (
    CALL_COST,
    CALL_COSTS,
    LOADED_FIELDS,
    OBJECT_COSTS,
    Price,
    Prices,
    operation_cost,
    operation_price,
)
from graph.limits import crowding
from graph.schema import build_schema
from graph.services.bundle import Services
from tests.graph.conftest import GraphQL, error_codes

SCHEMA = build_schema(GraphQLLimits())._schema
CALL = 1 + CALL_COST  # a field taking `first`, called once
SEARCH = 1 + CALL_COSTS["Query", "movies"]  # `movies`, called once
RAIL = 1 + CALL_COSTS["Query", "featured"]
RATINGS = 1 + CALL_COSTS["User", "ratings"]
RECOMMENDATIONS = 1 + CALL_COSTS["User", "recommendations"]
STATS = OBJECT_COSTS["Movie", "ratingStats"]


def cost(query: str, variables: dict[str, object] | None = None, name: str | None = None) -> int:
    return operation_cost(SCHEMA, parse(query).definitions, name, variables or {})


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("{ genres }", 1),
        ("{ genres __typename }", 1),  # __typename is free
        ("{ movie(id: 1) { id title year } }", 4),
        # A connection is one object; its edges hold `first` of them.
        ("{ movies(first: 30) { edges { node { title } } } }", SEARCH + 1 + 30 * 2),
        ("{ movies { totalCount pageInfo { hasNextPage } } }", SEARCH + 1 + 2),  # default first
        (
            "{ movies(first: 100) { edges { node { similar(first: 10) { id } } } } }",
            SEARCH + 1 + 100 * (1 + CALL) + 1000,
        ),
        (
            "{ movie(id: 1) { similar(first: 5) { similar(first: 4) { id } } } }",
            1 + CALL + 5 * CALL + 20,
        ),
        ("{ a: featured(first: 3) { id } b: trending(first: 4) { id } }", 2 * RAIL + 3 + 4),
        ("{ movies(first: 0) { edges { node { similar(first: 99) { id } } } } }", SEARCH + 1),
        # A movie's rating stats are an SQL aggregate each: they weigh more than a field.
        ("{ movie(id: 1) { ratingStats { average count } } }", 1 + STATS + 2),
        ("{ featured(first: 10) { ratingStats { count } } }", RAIL + 10 * (STATS + 1)),
        # A list without `first` holds its maximum: a movie has up to 3 reasons.
        ("{ movie(id: 1) { because { rating movie { id } } } }", 1 + 1 + 3 * 3),
    ],
)
def test_costs_each_field_for_each_object_it_is_resolved_on(query: str, expected: int) -> None:
    assert cost(query) == expected


def answered_values(value: object) -> int:
    """Every field value in an answer, objects and leaves alike."""
    if isinstance(value, dict):
        return sum(1 + answered_values(item) for item in value.values())
    if isinstance(value, list):
        return sum(answered_values(item) for item in value)
    return 0


@pytest.mark.parametrize(
    "query",
    [
        get_introspection_query(descriptions=True),  # what GraphiQL sends
        "{ __schema { types { name fields { name args { name type { name ofType { name } } } } "
        "possibleTypes { name } enumValues { name } } directives { name args { name } } } }",
    ],
)
def test_introspection_costs_about_the_size_of_its_answer(gql: GraphQL, query: str) -> None:
    """Costed as free, 15 aliased introspections took 140-220 ms of CPU (bench/attack.py)."""
    result = gql(query)
    assert "errors" not in result
    answered = answered_values(result["data"])
    assert answered / 2 <= cost(query) <= answered * 2


def test_graphiql_introspects_but_fifteen_aliased_introspections_are_refused(
    gql: GraphQL, config: AppConfig
) -> None:
    full = get_introspection_query(descriptions=True)
    assert 1_000 < cost(full) <= config.limits.max_cost / 2
    types = "__schema { types { name fields { name type { name ofType { name } } } } }"
    aliased = "{ " + " ".join(f"a{n}: {types}" for n in range(15)) + " }"
    assert cost(aliased) > config.limits.max_cost
    assert error_codes(gql(aliased)) == ["COST_LIMIT_EXCEEDED"]


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
    rated = RATINGS + 1 + 10 * (1 + 1 + CALL) + 10 * 2
    assert cost(query, {"n": 10}, name="Page") == 1 + rated + 1 + CALL + 7
    # A fragment on a connection: its edges take the size of the field it is spread under.
    assert cost(query, name="Spread") == 1 + RATINGS + (1 + 6 * 2) + 1
    assert cost(query, name="Rate") == 1 + (1 + RECOMMENDATIONS + 9) + 2


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
        "loadedFields": 1 + 100,  # similar on the movie, then on each of its 100
        "maxLoadedFields": config.limits.max_loaded_fields,
    }


# The costliest document bench/attack.py knew of when the stats and reasons were counted as
# one field (cost 9,814; 170-1,360 ms of server CPU at load 18-31): seven one-letter searches of
# 100 movies each, the 700 most-rated movies' rating stats aggregated in SQL.
SEVEN_SEARCHES = (
    "{ "
    + " ".join(
        f'a{n}: movies(first: 100, search: "{chr(97 + n)}") {{ edges {{ node {{ id title '
        "overview genres posterUrl ratingStats { average count } } } }"
        for n in range(7)
    )
    + " }"
)
# The next costliest: pages of 100 movies with their reasons, each reason's movie loaded.
EIGHT_REASON_PAGES = (
    "{ "
    + " ".join(
        f'a{n}: movies(first: 100, search: "{chr(97 + n)}") {{ edges {{ node {{ id '
        "because { rating share movie { id } } } } }"
        for n in range(8)
    )
    + " }"
)


@pytest.mark.parametrize("query", [SEVEN_SEARCHES, EIGHT_REASON_PAGES])
def test_the_costliest_documents_once_allowed_are_refused_before_they_run(
    gql: GraphQL, config: AppConfig, services: Services, monkeypatch: pytest.MonkeyPatch, query: str
) -> None:
    """Charged their measured weights, they cost about twice the budget: nothing runs."""
    called: list[str] = []
    monkeypatch.setattr(services.catalog, "search", lambda *args, **kw: called.append("search"))
    assert cost(query) > 1.5 * config.limits.max_cost
    result = gql(query)
    assert error_codes(result) == ["COST_LIMIT_EXCEEDED"]
    assert result["errors"][0]["extensions"]["cost"] == cost(query)
    assert called == []


def loads(query: str, variables: dict[str, object] | None = None) -> int:
    return operation_price(SCHEMA, parse(query).definitions, None, variables or {}).loads


# Within the cost budget (6,465), the costliest document bench/attack.py found once the stats
# and reasons were weighed: 1,500 movies with three of the viewer's fields each, 0.64-1.0 s of
# CPU at load 15 in process.
VIEWER_FIELDS_ON_RAILS = (
    "{ "
    + " ".join(
        f"a{n}: featured(first: 100) {{ id viewerRating inWatchlist predictedRating }}"
        for n in range(15)
    )
    + " }"
)


def test_fields_resolved_through_loaders_are_counted_on_each_object() -> None:
    assert loads("{ movie(id: 1) { id title ratingStats { count } } }") == 1
    assert loads("{ featured(first: 10) { inWatchlist similar(first: 3) { id } } }") == 20
    assert loads("{ movie(id: 1) { because { movie { inWatchlist } } } }") == 1 + 3 + 3
    assert loads(VIEWER_FIELDS_ON_RAILS) == 4_500


def test_every_field_resolved_through_a_loader_on_each_object_is_counted() -> None:
    """A new such field (an async resolver on a type that comes in lists) is counted too. The
    viewer (a User) and the root fields are resolved once per operation."""
    roots = {SCHEMA.query_type, SCHEMA.mutation_type}
    resolved_async = {
        (kind.name, name)
        for kind in SCHEMA.type_map.values()
        if isinstance(kind, GraphQLObjectType) and kind not in roots and kind.name != "User"
        for name, field in kind.fields.items()
        if getattr((field.extensions or {}).get("strawberry-definition"), "is_async", False)
    }
    assert resolved_async == LOADED_FIELDS


def test_too_many_loaded_fields_are_refused_before_they_run(
    gql: GraphQL, config: AppConfig, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    called: list[str] = []
    monkeypatch.setattr(services.catalog, "rail", lambda *args: called.append("rail"))
    assert cost(VIEWER_FIELDS_ON_RAILS) <= config.limits.max_cost
    assert loads(VIEWER_FIELDS_ON_RAILS) > config.limits.max_loaded_fields
    result = gql(VIEWER_FIELDS_ON_RAILS)
    assert error_codes(result) == ["COST_LIMIT_EXCEEDED"]
    error = result["errors"][0]
    assert error["extensions"]["loadedFields"] == 4_500
    assert error["extensions"]["maxLoadedFields"] == config.limits.max_loaded_fields
    assert f"at most {config.limits.max_loaded_fields:,} are allowed" in error["message"]
    assert called == []


def test_a_batch_shares_the_loaded_fields(http: TestClient, config: AppConfig) -> None:
    each = "{ featured(first: 100) { id inWatchlist predictedRating viewerRating } }"
    assert 2 * loads(each) <= config.limits.max_loaded_fields < 4 * loads(each)
    results = http.post("/graphql", json=[{"query": each}] * 4).json()
    assert ["errors" in result for result in results] == [False, False, False, True]
    assert error_codes(results[3]) == ["COST_LIMIT_EXCEEDED"]
    assert "with 1,200 loaded fields" in results[3]["errors"][0]["message"]


@pytest.mark.parametrize(
    ("query", "first"),
    [
        ("{ featured(first: 5) { id similar(first: 1000) { id } } }", 1000),
        ("{ movies(first: 3) { edges { node { similar(first: -1) { id } } } } }", -1),
        ("{ viewer { ratings(first: 101) { totalCount } } }", 101),  # signed out: not run
    ],
)
def test_a_first_out_of_range_anywhere_is_refused_before_anything_runs(
    gql: GraphQL, services: Services, monkeypatch: pytest.MonkeyPatch, query: str, first: int
) -> None:
    """Refused while running, inside a list, the error unwound half-run siblings and
    graphql-core left some of their coroutines never awaited: the fuzz test's flaky failures."""
    called: list[str] = []
    for name in ("rail", "search"):
        monkeypatch.setattr(services.catalog, name, lambda *args, n=name: called.append(n))
    result = gql(query)
    assert result == {
        "data": None,
        "errors": [
            {
                "message": f"first must be between 0 and 100, got {first}",
                "extensions": {"code": "BAD_USER_INPUT"},
            }
        ],
    }
    assert called == []


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


# --- The web app's own queries stay well inside the budget ------------------------------------

WEB_JS = Path(graph.__file__).parent / "web" / "js"
TEMPLATE = re.compile(r"`((?:[^`\\]|\\.)*)`", re.DOTALL)
NAMED = re.compile(r"const (\w+) = /\* GraphQL \*/ `((?:[^`\\]|\\.)*)`", re.DOTALL)
PARAMETER = re.compile(r"\$\{(\w+)\}")
# A value per variable type (an enum's first), for `first` the largest the API accepts: an
# upper bound.
SAMPLE = {"Int": 100, "Float": 4.5, "String": "x", "Boolean": True}


def web_documents() -> dict[str, str]:
    """Every query and mutation the web app sends, from its sources: each template literal that
    starts with `query` or `mutation`, its `${NAME}` parts filled from the `/* GraphQL */`
    constants of any module, and any other `${name}` once for each `name: "value"` the modules
    list (the home rails' `field`)."""
    sources = {path: path.read_text() for path in sorted(WEB_JS.rglob("*.js"))}
    constants = {n: body for text in sources.values() for n, body in NAMED.findall(text)}
    everything = "\n".join(sources.values())
    documents: dict[str, str] = {}
    for path, text in sources.items():
        for body in TEMPLATE.findall(text):
            if not re.match(r"\s*(query|mutation)\b", body):
                continue
            variants = [body]
            for name in set(PARAMETER.findall(body)) - set(constants):
                values = re.findall(rf'\b{name}: "(\w+)"', everything)
                assert values, f"{path.name}: no values for ${{{name}}}: teach this test"
                variants = [v.replace(f"${{{name}}}", value) for v in variants for value in values]
            for variant in variants:
                while PARAMETER.search(variant):
                    variant = PARAMETER.sub(lambda m: constants[m.group(1)], variant)
                document = parse(variant)
                operation = next(
                    d for d in document.definitions if isinstance(d, OperationDefinitionNode)
                )
                assert operation.name is not None, variant
                documents[f"{path.name}:{operation.name.value}:{len(documents)}"] = variant
    return documents


def sample_variables(document: str) -> dict[str, object]:
    operation = next(
        d for d in parse(document).definitions if isinstance(d, OperationDefinitionNode)
    )
    values: dict[str, object] = {}
    for definition in operation.variable_definitions or ():
        kind = definition.type
        while not isinstance(kind, NamedTypeNode):
            kind = kind.type
        named = SCHEMA.get_type(kind.name.value)
        sample = next(iter(named.values)) if isinstance(named, GraphQLEnumType) else None
        values[definition.variable.name.value] = sample or SAMPLE[kind.name.value]
    return values


def test_the_web_apps_queries_are_found() -> None:
    names = {key.split(":")[1] for key in web_documents()}
    assert {"Search", "YourRatings", "Movie", "Rail", "Watched", "Login", "RateMovie"} <= names
    assert len(web_documents()) >= 15


@pytest.mark.parametrize(("where", "document"), web_documents().items())
def test_every_web_app_query_costs_at_most_a_fifth_of_the_budget(where: str, document: str) -> None:
    """The legacy shim sends no GraphQL: it calls the services directly (graph/legacy.py)."""
    limits = GraphQLLimits()
    parsed = parse(document)
    assert validate(SCHEMA, parsed) == [], where
    assert crowding(parsed, limits.max_same_name_fields, limits.max_expanded_fields) is None
    assert 0 < cost(document, sample_variables(document)) <= limits.max_cost // 5, where


@pytest.mark.parametrize(("where", "document"), web_documents().items())
def test_every_web_app_query_resolves_fewer_loaded_fields_than_allowed(
    where: str, document: str
) -> None:
    """The costliest, a "See all" page of 100 recommendations with their reasons, 600."""
    assert loads(document, sample_variables(document)) <= GraphQLLimits().max_loaded_fields, where


def test_a_price_without_variables_is_walked_once_per_document(
    gql: GraphQL, config: AppConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    walked: list[str | None] = []
    price = graph.cost.operation_price

    def counted(*args: object) -> object:
        walked.append(args[2])  # type: ignore[arg-type]
        return price(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(graph.cost, "operation_price", counted)
    fixed = "query A { movie(id: 1) { similar(first: 3) { id } } } query B { genres }"
    for _ in range(3):
        http_result = gql.http.post("/graphql", json={"query": fixed, "operationName": "A"})
        assert "errors" not in http_result.json()
    assert walked == ["A"]  # kept for the document's operation A
    gql.http.post("/graphql", json={"query": fixed, "operationName": "B"})
    assert walked == ["A", "B"]  # each operation of a document its own price
    # With variables the price is walked every time: they decide `first`.
    query = "query($n: Int!) { movie(id: 1) { similar(first: $n) { similar(first: $n) { id } } } }"
    assert "errors" not in gql(query, {"n": 3})
    assert error_codes(gql(query, {"n": 100})) == ["COST_LIMIT_EXCEEDED"]
    assert "errors" not in gql(query, {"n": 3})
    assert walked == ["A", "B", None, None, None]
    # A kept price still meets each request's budget, and a refused one is refused every time.
    over = "{ movie(id: 1) { similar(first: 100) { similar(first: 100) { title } } } }"
    assert error_codes(gql(over)) == ["COST_LIMIT_EXCEEDED"]
    assert error_codes(gql(over)) == ["COST_LIMIT_EXCEEDED"]
    bad = "{ movie(id: 1) { similar(first: 100000) { id } } }"
    assert error_codes(gql(bad)) == ["BAD_USER_INPUT"]
    assert error_codes(gql(bad)) == ["BAD_USER_INPUT"]


def test_the_kept_prices_are_bounded() -> None:
    prices = Prices(size=2)
    documents = [parse(f"{{ movie(id: {n}) {{ id }} }}") for n in range(3)]
    for document in documents:
        prices.put(document, None, Price(1, 0))
    assert prices.get(documents[2], None) == Price(1, 0)
    assert prices.get(documents[0], None) is None  # dropped to keep the bound
    # Found by identity: an equal document parsed anew is not the one kept.
    assert prices.get(parse("{ movie(id: 2) { id } }"), None) is None
