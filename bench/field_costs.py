"""What one call of each field taking `first` costs a worker, in units of graph/cost.py's budget.

    MOVIEREC_DATA_DIR=<store> .venv/bin/python bench/field_costs.py
    MOVIEREC_DATA_DIR=<store> .venv/bin/python bench/field_costs.py --rounds 7 --repeat 200

graph/cost.py charges 1 per field per object it is resolved on, and a weight per call of a field
taking `first` (``CALL_COST``, or ``CALL_COSTS`` for the fields whose calls cost more). This
measures both in process, on the configured store and model (Starlette's TestClient: HTTP,
Strawberry, the services, JSON, with the app's own threads and GraphQL loop), as CPU time of
the whole process per request (``time.process_time``: the machine's load hardly changes it):

- the unit: `featured(first: 100)` with four fields against `featured(first: 1) { id }`, the
  difference divided by the difference of their costs (399 fields);
- each call: a request making one call with `first: 1` and one field under it, against the same
  request without that call; the CPU difference in units, less the fields it adds, is the
  call's weight as measured. A `movies` search matches one letter: nearly every movie, the
  most a search can filter and count;
- each field resolved through a DataLoader (``OBJECT_COSTS``, and the viewer's fields charged
  1): a page of the 100 most-rated movies (the longest ``ratingStats`` aggregates) with the
  field against the page without it; the CPU difference in units, less the fields under it,
  divided by the objects it is resolved on, is its weight per object.

Requests alternate in blocks of ``--repeat`` (call, reference, call, ...), ``--rounds`` times;
the figure is the median over the rounds, with their spread. user 1 is the viewer (signed in
once); its watchlist is whatever the store holds. One BLAS thread, as the server runs.
"""

from __future__ import annotations

import argparse
import statistics
import time
from dataclasses import dataclass, replace

from fastapi.testclient import TestClient
from graphql import parse
from threadpoolctl import threadpool_limits

from graph.app import create_app
from graph.cost import CALL_COST, CALL_COSTS, OBJECT_COSTS, operation_cost
from graph.schema import build_schema
from movierec.bootstrap import app_config
from movierec.settings import Settings

LOGIN = 'mutation { login(username: "user1", password: "pass") { ... on AuthPayload { token } } }'
EDGES = "edges { node { id } }"


@dataclass(frozen=True)
class Call:
    owner: str
    field: str
    query: str  # one call, first: 1, one field under it
    reference: str  # the same without the call


VIEWER = "{ viewer { id } }"
CALLS = [
    Call("Query", "featured", "{ featured(first: 1) { id } }", "{ __typename }"),
    Call("Query", "rail", f"{{ rail(name: TRENDING, first: 1) {{ {EDGES} }} }}", "{ __typename }"),
    Call("Query", "movies", f'{{ movies(search: "a", first: 1) {{ {EDGES} }} }}', "{ __typename }"),
    Call(
        "Movie",
        "similar",
        "{ movie(id: 1) { id similar(first: 1) { id } } }",
        "{ movie(id: 1) { id } }",
    ),
    Call("User", "recommendations", "{ viewer { id recommendations(first: 1) { id } } }", VIEWER),
    Call(
        "Query",
        "pagedRecommendations",
        f"{{ viewer {{ id }} pagedRecommendations(first: 1) {{ {EDGES} }} }}",
        VIEWER,
    ),
    Call("User", "watchlist", f"{{ viewer {{ id watchlist(first: 1) {{ {EDGES} }} }} }}", VIEWER),
    Call(
        "User",
        "ratings",
        "{ viewer { id ratings(first: 1) { edges { node { rating } } } } }",
        VIEWER,
    ),
]


@dataclass(frozen=True)
class PerObject:
    owner: str
    field: str
    selection: str  # the field and what it needs under it, on each movie of the page
    reference: str = ""  # what the page asks of each movie instead (besides its id)
    objects: int = 100  # how many objects graph/cost.py counts the field on


PER_OBJECT = [
    PerObject("Movie", "ratingStats", "ratingStats { count }"),
    PerObject("Movie", "viewerRating", "viewerRating"),
    PerObject("Movie", "inWatchlist", "inWatchlist"),
    PerObject("Movie", "predictedRating", "predictedRating"),
    PerObject("Movie", "because", "because { rating }"),
    PerObject("Reason", "movie", "because { rating movie { id } }", "because { rating }", 300),
]


def most_rated(selection: str) -> str:
    return f'{{ movies(search: "a", first: 100) {{ edges {{ node {{ id {selection} }} }} }} }}'


WIDE = "{ featured(first: 100) { id title year genres } }"
NARROW = "{ featured(first: 1) { id } }"


def cpu_per_request(client: TestClient, query: str, token: str, repeat: int) -> float:
    body = {"query": query}
    headers = {"Authorization": f"Bearer {token}"}
    started = time.process_time()
    for _ in range(repeat):
        response = client.post("/graphql", json=body, headers=headers)
        if response.status_code != 200 or "errors" in response.json():
            raise SystemExit(f"{query}: {response.text[:300]}")
    return (time.process_time() - started) / repeat


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=100, help="requests per block")
    args = parser.parse_args()
    # CPU time is the figure, not wall time: on a loaded machine the heaviest probe passed the
    # 5 s deadline and its TIMEOUT ended the run, so the deadline here is an hour.
    served = app_config(Settings())
    config = replace(served, limits=replace(served.limits, deadline_seconds=3600))
    schema = build_schema(config.limits)._schema

    def cost(query: str) -> int:
        return operation_cost(schema, parse(query).definitions, None, {})

    units: list[float] = []
    weights: dict[str, list[float]] = {}
    milliseconds: dict[str, list[float]] = {}
    # One BLAS thread, as `movierec serve` has (movierec/cli.py): spare BLAS threads spin after
    # each product, CPU time this process would count against the recommendation fields.
    with threadpool_limits(1, user_api="blas"), TestClient(create_app(config)) as client:
        token = client.post("/graphql", json={"query": LOGIN}).json()["data"]["login"]["token"]
        for call in CALLS:  # warm: caches, first imports, the search index
            cpu_per_request(client, call.query, token, 5)
        for item in PER_OBJECT:
            cpu_per_request(client, most_rated(item.selection), token, 5)
        for number in range(args.rounds):
            wide = cpu_per_request(client, WIDE, token, args.repeat)
            narrow = cpu_per_request(client, NARROW, token, args.repeat)
            unit = (wide - narrow) / (cost(WIDE) - cost(NARROW))
            units.append(unit)
            for call in CALLS:
                with_call = cpu_per_request(client, call.query, token, args.repeat)
                without = cpu_per_request(client, call.reference, token, args.repeat)
                charged = CALL_COSTS.get((call.owner, call.field), CALL_COST)
                fields = cost(call.query) - cost(call.reference) - charged
                weights.setdefault(call.field, []).append((with_call - without) / unit - fields)
                milliseconds.setdefault(call.field, []).append((with_call - without) * 1e3)
            for item in PER_OBJECT:
                query, reference = most_rated(item.selection), most_rated(item.reference)
                with_field = cpu_per_request(client, query, token, args.repeat)
                without = cpu_per_request(client, reference, token, args.repeat)
                charged = OBJECT_COSTS.get((item.owner, item.field), 1)
                below = cost(query) - cost(reference) - charged * item.objects
                per_object = ((with_field - without) / unit - below) / item.objects
                weights.setdefault(item.field, []).append(per_object)
                milliseconds.setdefault(item.field, []).append((with_field - without) * 1e3)
            print(f"round {number + 1}: one unit {unit * 1e6:.1f} us of CPU", flush=True)

    print(
        f"\none unit (a field on one object): {statistics.median(units) * 1e6:.1f} us of CPU "
        f"(rounds {min(units) * 1e6:.1f}-{max(units) * 1e6:.1f}); {args.rounds} rounds x "
        f"{args.repeat} requests per block"
    )
    print(f"{'field':<30} {'weight now':>10} {'measured (spread)':>22} {'CPU ms per call':>16}")
    for call in CALLS:
        measured, ms = weights[call.field], milliseconds[call.field]
        now = CALL_COSTS.get((call.owner, call.field), CALL_COST)
        print(
            f"{call.owner + '.' + call.field:<30} {now:>10} "
            f"{statistics.median(measured):>8.0f} ({min(measured):.0f} to {max(measured):.0f})"
            f" {statistics.median(ms):>12.3f}"
        )
    print(
        f"\n{'per object':<30} {'weight now':>10} {'measured (spread)':>22} {'CPU ms per page':>16}"
    )
    for item in PER_OBJECT:
        measured, ms = weights[item.field], milliseconds[item.field]
        now = OBJECT_COSTS.get((item.owner, item.field), 1)
        print(
            f"{item.owner + '.' + item.field:<30} {now:>10} "
            f"{statistics.median(measured):>8.1f} ({min(measured):.1f} to {max(measured):.1f})"
            f" {statistics.median(ms):>12.3f}"
        )


if __name__ == "__main__":
    main()
