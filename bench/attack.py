"""The worst requests we know of, against a real server, with /healthz latency measured meanwhile.

    .venv/bin/python bench/attack.py                    # starts `movierec serve --workers 2`
    .venv/bin/python bench/attack.py --url http://127.0.0.1:5000 --runs 3 --duration 10

Each run has two phases:
  1. alone: every attack sent one at a time, ``--repeat`` times, each with a query text never
     sent before (no cache helps); the wall time, and the CPU time the server's processes
     spent (from /proc, when the server runs on this machine: what a request costs a worker,
     whatever else the machine runs). Target: at most 1 s for any request of at most 1 MB;
  2. together: ``--concurrency`` clients send the attacks round-robin for ``--duration`` seconds
     while one more client, in a process of its own, asks /healthz every 10 ms (target: p99 at
     most 100 ms); before it, /healthz alone for half as long: the reference of the same run.
     The load average is printed per run.

The attacks are those of issue 9 and the limits' edges: fragment bombs (each fragment spreads the
next twice: 2^22 spreads in 900 bytes); the costliest documents of several shapes the limits
allow (graph/cost.py: found by costing each size), among them each costly list aliased with each
costly selection, signed in as a demo user so the viewer's fields do their work, and a batch of
10 of one; the 5,000 movies
the old object cap allowed; many fields answering at one place (graph/limits.py, crowding), 15
aliased introspections, 1 MB bodies (a 1 MB search string, comment, token run, nested JSON), a
5 MB body streamed without Content-Length, 1 MB legacy usernames, lone surrogates.

Measured 2026-12-01 11:29-11:36 UTC on this 2-core machine, load average 18-26 from other jobs,
ml-latest-small, `movierec serve --workers 2`, main (`e1d67e2`) then this branch back to back
(`MOVIEREC_DATA_DIR=<store> .venv/bin/python bench/attack.py --runs 3 --repeat 3 --duration 8
--concurrency 4`), 9 sends each, server CPU ms (main / this branch):
    7 aliases x movies(100), cost 9,814: 170-1,360 / 190-1,220 (walls up to 1,965 / 2,353);
    movies(100) x similar(9): 230-540 / 200-330; depth 10 similar(2): 200-350 / 70-120;
    15 introspections: answered, 310-630 / refused (cost 29,363), 50-90; 1 MB comment 140-170 /
    160-270; everything else <= 190 / <= 120.
    /healthz p99 with no attack 7-25 / 14-23 ms; under attack p50 2.0-19.9 / 7.7-11.1 ms, p99
    30.5-508 (median 39) / 85.8-119 (median 112) ms, with 58-81 / 109-139 attack requests
    answered per 8 s run. This branch at the committed 0.5 ms switch interval (11:37-11:40, load
    27-31, `--repeat 1`): /healthz p99 under attack 34.1-109 ms (median 63.5), most server CPU
    for one request 810 ms (the 7 aliased searches, 190-810 ms).
Re-measured 14:29-14:35 UTC at `745c67a` (same command, load 14-26): issue 9's 7 aliased searches
now cost 21,014 and are refused (10-20 ms); the costliest allowed request of all the lists and
selections aliased to the limits, 3 one-letter searches of 100 movies with 7 fields (9,006), took
80-310 ms of server CPU; the loaded-field cap and the budget spent together, 190-290 ms; most
server CPU for one request 310 ms. /healthz p99 under attack 47.1, 50.0 and 439.8 ms (median 50.0;
the probe with no attack reached 250.6 ms in one run).
The probe ran in the attackers' event loop before 11:29: the bench's own work (encoding 1 MB
bodies, decoding large answers) counted as /healthz latency, which gave the p99 of 0.8-1.8 s
quoted earlier for main. The one attack over 1 s of CPU is the 7 aliased searches at this load
(cost 9,814 of the 10,000 budget; its fastest send took 170-190 ms).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import multiprocessing
import os
import statistics
import sys
import time
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from urllib.parse import urlsplit

import httpx
from api_load import server
from graphql import parse

from graph.config import GraphQLLimits
from graph.cost import Price, operation_price
from graph.schema import build_schema

MB = 1_000_000
LIMITS = GraphQLLimits()
SCHEMA = build_schema(LIMITS)._schema
NONCE = itertools.count()
Body = bytes | Callable[[], bytes] | Callable[[], AsyncIterator[bytes]] | None


@dataclass(frozen=True)
class Attack:
    name: str
    method: str
    path: str
    body: Body = None
    cost: int | None = None  # graph.cost's figure, for a GraphQL document within the limits
    signed_in: bool = False  # sent with a demo user's token: the viewer's fields do their work


def unique(query: str) -> str:
    """The query behind a comment no other request has: each is parsed and validated afresh,
    as an attacker varying the text would have it, instead of served from the cache."""
    return f"#{next(NONCE)}\n{query}"


def graphql(query: str, variables: dict[str, object] | None = None) -> Callable[[], bytes]:
    return lambda: json.dumps({"query": unique(query), "variables": variables or {}}).encode()


def price(query: str) -> Price:
    return operation_price(SCHEMA, parse(query).definitions, None, {})


def cost(query: str) -> int:
    return price(query).cost


def heaviest(make: Callable[[int], str], sizes: range) -> tuple[int, str, int]:
    """The largest size whose document ``make`` builds is allowed (its cost within the budget,
    its loaded fields within their cap); the document; its cost."""
    allowed = [
        n
        for n in sizes
        if (p := price(make(n))).cost <= LIMITS.max_cost and p.loads <= LIMITS.max_loaded_fields
    ]
    size = max(allowed)
    return size, make(size), cost(make(size))


def fragment_bomb(leaf: str) -> str:
    chain = " ".join(f"fragment F{n} on Query {{ ...F{n + 1} ...F{n + 1} }}" for n in range(22))
    return f"query {{ ...F0 }} {chain} fragment F22 on Query {{ {leaf} }}"


def nested_similar(levels: int, first: int) -> str:
    inner = "id title"
    for _ in range(levels):
        inner = f"id similar(first: {first}) {{ {inner} }}"
    return f"{{ movie(id: 1) {{ {inner} }} }}"


MOVIE_FIELDS = "id title overview genres posterUrl ratingStats { average count }"


def movies_and_similar(similar: int) -> str:
    return (
        f"{{ movies(first: 100) {{ edges {{ node {{ {MOVIE_FIELDS} "
        f"similar(first: {similar}) {{ {MOVIE_FIELDS} }} }} }} }} }}"
    )


def aliased_movies(count: int) -> str:
    """Issue 9's costliest allowed document at 7: one-letter searches, 100 movies each."""
    return aliased(LISTS["movies(100, search)"], MOVIE_FIELDS, count)


# Each costly list, aliased as often as the budget allows, with each costly selection on each
# of its movies: the search for the worst request within the budget.
LISTS = {
    "movies(100, search)": lambda n, movie: (
        f'a{n}: movies(first: 100, search: "{chr(97 + n)}") {{ edges {{ node {{ {movie} }} }} }}'
    ),
    "featured(100)": lambda n, movie: f"a{n}: featured(first: 100) {{ {movie} }}",
    "recommendations(100)": lambda n, movie: f"a{n}: recommendations(first: 100) {{ {movie} }}",
    "viewer.ratings(100)": lambda n, movie: (
        f"a{n}: viewer {{ ratings(first: 100) {{ edges {{ node {{ rating movie {{ {movie} }} "
        "} } } }"
    ),
}
SELECTIONS = {
    "7 fields": MOVIE_FIELDS,
    "ratingStats": "id ratingStats { average count }",
    "viewer's fields": "id viewerRating inWatchlist predictedRating",
    "reasons": "id because { rating share movie { id } }",
    "similar(5)": "id similar(first: 5) { id title }",
}


def aliased(field: Callable[[int, str], str], movie: str, count: int) -> str:
    return "{ " + " ".join(field(n, movie) for n in range(count)) + " }"


def same_path_tree(fanout: int, depth: int) -> str:
    inner = "id"
    for _ in range(depth):
        inner = " ".join(f"similar {{ {inner} }}" for _ in range(fanout))
    return f"{{ movie(id: 1) {{ {inner} }} }}"


INTROSPECTION = (
    "__schema { types { name kind fields { name args { name type { name kind ofType { name kind "
    "ofType { name kind ofType { name } } } } } type { name kind ofType { name kind ofType { name "
    "kind ofType { name } } } } } inputFields { name } interfaces { name } possibleTypes { name "
    "fields { name args { name } } } enumValues { name } } }"
)


async def streamed_5mb() -> AsyncIterator[bytes]:
    yield b'{"query": "'
    for _ in range(80):
        yield b"x" * 65_536
    yield b'"}'


def allowed(name: str, query: str) -> Attack:
    return Attack(name, "POST", "/graphql", graphql(query), cost(query))


@cache
def attacks() -> list[Attack]:
    """Built once (costing every size of every aliased document takes seconds of CPU, which the
    attackers' process would spend while the probe runs)."""
    one_mb = MB - 200
    similar, heavy, heavy_cost = heaviest(movies_and_similar, range(50))
    first, deep, deep_cost = heaviest(lambda n: nested_similar(9, n), range(1, 10))
    return [
        allowed("fragment bomb (23 fragments, 2^22 spreads)", fragment_bomb("genres")),
        Attack(
            "fragment bomb, aliased leaf",
            "POST",
            "/graphql",
            graphql(fragment_bomb("a: genres")),
        ),
        Attack(f"depth 10, similar(first: {first})", "POST", "/graphql", graphql(deep), deep_cost),
        Attack(
            "7 aliases x movies(100), 7 fields (issue 9)",
            "POST",
            "/graphql",
            graphql(aliased_movies(7)),
        ),
        *costliest_aliased(),
        mixed(),
        Attack(
            f"movies(100) x similar({similar}), 7 fields",
            "POST",
            "/graphql",
            graphql(heavy),
            heavy_cost,
        ),
        Attack(
            "batch of 10 such",
            "POST",
            "/graphql",
            lambda: json.dumps([{"query": unique(heavy)} for _ in range(10)]).encode(),
            10 * heavy_cost,
        ),
        Attack(
            "5,000 movies: movies(100) x similar(49)",
            "POST",
            "/graphql",
            graphql(movies_and_similar(49)),
        ),
        allowed(
            "15 aliases x full introspection",
            "{ " + " ".join(f"a{n}: {INTROSPECTION}" for n in range(15)) + " }",
        ),
        allowed("similar 2 per level, 3 levels (8 at one path)", same_path_tree(2, 3)),
        Attack(
            "1,990 identical fields",
            "POST",
            "/graphql",
            graphql("{ " + "genres " * 1990 + "}"),
        ),
        Attack(
            "190 conflicting movie(id) fields",
            "POST",
            "/graphql",
            graphql("{ " + " ".join(f"movie(id: {i}) {{ id }}" for i in range(190)) + " }"),
        ),
        Attack(
            "similar 2 per level, 8 levels (256 at one path)",
            "POST",
            "/graphql",
            graphql(same_path_tree(2, 8)),
        ),
        Attack(
            "1 MB search string",
            "POST",
            "/graphql",
            graphql("query($s: String) { movies(search: $s) { totalCount } }", {"s": "x" * one_mb}),
        ),
        Attack("1 MB comment", "POST", "/graphql", graphql("#" + "c" * one_mb + "\n{ genres }")),
        Attack(
            "1 MB of tokens", "POST", "/graphql", graphql("{ " + "genres " * (one_mb // 7) + "}")
        ),
        Attack(
            "1 MB nested JSON variables",
            "POST",
            "/graphql",
            b'{"query": "{ genres }", "variables": {"v": '
            + b"[" * (one_mb // 2)
            + b"]" * (one_mb // 2)
            + b"}}",
        ),
        Attack("5 MB streamed, no Content-Length", "POST", "/graphql", streamed_5mb),
        Attack(
            "legacy /login, 1 MB username",
            "POST",
            "/login",
            json.dumps({"username": "u" * one_mb, "password": "p"}).encode(),
        ),
        Attack(
            "legacy /login, lone surrogate",
            "POST",
            "/login",
            b'{"username": "user1\\ud800", "password": "pass"}',
        ),
        Attack(
            "signUp with lone surrogates",
            "POST",
            "/graphql",
            graphql(
                "mutation($u: String!, $p: String!) { signUp(username: $u, password: $p) "
                "{ __typename } }",
                {"u": "\ud800x", "p": "\udfff" * 10},
            ),
        ),
        Attack(
            "legacy recommendations, 20-digit id",
            "GET",
            "/user/99999999999999999999/recommendations",
        ),
    ]


def mixed() -> Attack:
    count, document, figure = heaviest(loaded_and_plain, range(LIMITS.max_aliases - 2))
    name = f"3 x featured(100) viewer's fields + {count} searches, 6 fields"
    return Attack(name, "POST", "/graphql", graphql(document), figure, signed_in=True)


def costliest_aliased() -> list[Attack]:
    """Each list of ``LISTS`` with each selection of ``SELECTIONS``, aliased up to the budget."""
    found = []
    for list_name, field in LISTS.items():
        for selection_name, movie in SELECTIONS.items():
            count, document, figure = heaviest(
                lambda n, field=field, movie=movie: aliased(field, movie, n),
                range(1, LIMITS.max_aliases + 1),
            )
            name = f"{count} x {list_name}, {selection_name}"
            found.append(Attack(name, "POST", "/graphql", graphql(document), figure, True))
    return found


PLAIN_FIELDS = "id title overview genres posterUrl year"


def loaded_and_plain(searches: int) -> str:
    """The loaded-field cap spent on the viewer's fields of three rails of 100, the rest of the
    budget on one-letter searches of 100 movies with plain fields."""
    viewer = LISTS["featured(100)"]
    search = LISTS["movies(100, search)"]
    fields = [viewer(n, SELECTIONS["viewer's fields"]) for n in range(3)]
    fields += [search(n + 3, PLAIN_FIELDS) for n in range(searches)]
    return "{ " + " ".join(fields) + " }"


def outcome(response: httpx.Response) -> str:
    """The status, and the error codes when the answer holds errors (a batch: each answer's)."""
    try:
        body = response.json()
    except ValueError:
        return str(response.status_code)
    answers = body if isinstance(body, list) else [body]
    codes = sorted(
        {e.get("extensions", {}).get("code", "?") for a in answers for e in a.get("errors") or []}
    )
    return f"{response.status_code} {'/'.join(codes)}".strip()


class ServerCPU:
    """CPU seconds the server's processes (master and workers) have used, from /proc: what a
    request costs the server, whatever else the machine runs, when requests go one at a time."""

    def __init__(self, url: str) -> None:
        port = str(urlsplit(url).port)
        self.master = next(
            (pid for pid, argv in _processes().items() if "serve" in argv and port in argv), None
        )

    def seconds(self) -> float | None:
        if self.master is None:
            return None
        parents = {pid: _stat(pid)[0] for pid in _processes()}
        family, grew = {self.master}, True
        while grew:
            before = len(family)
            family |= {pid for pid, parent in parents.items() if parent in family}
            grew = len(family) > before
        ticks = os.sysconf("SC_CLK_TCK")
        return sum(_stat(pid)[1] for pid in family) / ticks


def _processes() -> dict[int, list[str]]:
    found = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                found[int(entry.name)] = (entry / "cmdline").read_bytes().decode().split("\0")
            except OSError:
                continue
    return found


def _stat(pid: int) -> tuple[int, int]:
    """Parent pid, and user + system clock ticks; (0, 0) for a process gone meanwhile."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0, 0
    return int(fields[1]), int(fields[11]) + int(fields[12])


# A demo user's token for the signed-in attacks (``sign_in``): an attacker can sign up.
TOKEN: list[str] = []


def sign_in(url: str) -> None:
    login = (
        'mutation { login(username: "user1", password: "pass") { ... on AuthPayload { token } } }'
    )
    answer = httpx.post(f"{url}/graphql", json={"query": login}, timeout=60).json()
    TOKEN[:] = [answer["data"]["login"]["token"]]


async def send(client: httpx.AsyncClient, attack: Attack) -> tuple[str, float]:
    body = attack.body() if callable(attack.body) else attack.body
    headers = {"Content-Type": "application/json"} if body is not None else {}
    if attack.signed_in:
        headers["Authorization"] = f"Bearer {TOKEN[0]}"
    started = time.perf_counter()
    response = await client.request(attack.method, attack.path, content=body, headers=headers)
    await response.aread()
    return outcome(response), time.perf_counter() - started


@dataclass
class Seen:
    answers: set[str]
    wall: list[float]
    cpu: list[float]


async def alone(
    client: httpx.AsyncClient, repeat: int, cpu: ServerCPU, seen: dict[str, Seen]
) -> None:
    """Each attack on its own, one at a time: its wall time and the server's CPU time for it."""
    for attack in attacks():
        record = seen.setdefault(attack.name, Seen(set(), [], []))
        for _ in range(repeat):
            before = cpu.seconds()
            status, seconds = await send(client, attack)
            after = cpu.seconds()
            record.answers.add(status)
            record.wall.append(seconds)
            if before is not None and after is not None:
                record.cpu.append(after - before)


def probe(url: str, seconds: float) -> list[float]:
    """/healthz every 10 ms for ``seconds``: the latencies. Run in a process of its own
    (``probed``): in the attackers' event loop, the time this process spent encoding 1 MB
    bodies and decoding large answers was counted as the server's (p99 of seconds)."""
    times: list[float] = []
    with httpx.Client(base_url=url, timeout=30) as client:
        end = time.perf_counter() + seconds
        while time.perf_counter() < end:
            started = time.perf_counter()
            response = client.get("/healthz")
            assert response.status_code == 200, response.text
            times.append(time.perf_counter() - started)
            time.sleep(0.01)
    return times


async def probed(url: str, seconds: float) -> list[float]:
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return await asyncio.wrap_future(pool.submit(probe, url, seconds))


async def together(url: str, concurrency: int, duration: float) -> tuple[list[float], int]:
    """/healthz latencies while ``concurrency`` clients send the attacks round-robin."""
    stop = asyncio.Event()
    sent = 0

    async def attacker(offset: int) -> None:
        nonlocal sent
        plan = attacks()
        async with httpx.AsyncClient(base_url=url, timeout=60) as client:
            n = offset
            while not stop.is_set():
                await send(client, plan[n % len(plan)])
                sent += 1
                n += 1

    workers = [asyncio.create_task(attacker(i * 3)) for i in range(concurrency)]
    times = await probed(url, duration)
    stop.set()
    await asyncio.gather(*workers)
    return times, sent


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def spread(values: list[float]) -> str:
    return f"{min(values) * 1000:.0f}-{max(values) * 1000:.0f}" if values else "n/a"


async def run(url: str, args: argparse.Namespace) -> None:
    seen: dict[str, Seen] = {}
    idle: list[tuple[float, float]] = []
    busy: list[tuple[float, float, int, int, str]] = []
    cpu = ServerCPU(url)
    sign_in(url)
    for number in range(1, args.runs + 1):
        load = "/".join(f"{x:.1f}" for x in os.getloadavg())
        print(f"run {number}/{args.runs}, load average {load}", flush=True)
        times = await probed(url, args.duration / 2)
        idle.append((percentile(times, 0.5), percentile(times, 0.99)))
        async with httpx.AsyncClient(base_url=url, timeout=60) as client:
            await alone(client, args.repeat, cpu, seen)
        times, sent = await together(url, args.concurrency, args.duration)
        load = "/".join(f"{x:.1f}" for x in os.getloadavg())
        busy.append((percentile(times, 0.5), percentile(times, 0.99), len(times), sent, load))

    print(
        f"\nbudget {LIMITS.max_cost:,} per request; each attack alone, {args.runs} x "
        f"{args.repeat} sends, every text new"
    )
    print(f"{'attack':<48} {'cost':>7} {'wall ms':>11} {'server CPU ms':>14}  answer")
    for attack in attacks():
        record = seen[attack.name]
        figure = f"{attack.cost:,}" if attack.cost is not None else ""
        print(
            f"{attack.name:<48} {figure:>7} {spread(record.wall):>11} {spread(record.cpu):>14}"
            f"  {', '.join(sorted(record.answers))}"
        )
    costliest = max(attacks(), key=lambda attack: max(seen[attack.name].cpu, default=0.0))
    slowest = max(attacks(), key=lambda attack: max(seen[attack.name].wall))
    most_cpu = max(seen[costliest.name].cpu, default=None)
    print(
        "\nmost server CPU for one request: "
        + (f"{most_cpu * 1000:.0f} ms ({costliest.name})" if most_cpu is not None else "n/a")
        + f"; longest wall: {max(seen[slowest.name].wall) * 1000:.0f} ms ({slowest.name}); "
        "target: at most 1 s"
    )
    print()
    for label, rows in (("/healthz, no attack", idle), ("/healthz under attack", busy)):
        medians = [row[0] for row in rows]
        tails = [row[1] for row in rows]
        print(
            f"{label:<24} p50 {statistics.median(medians):6.1f} ms "
            f"({min(medians):.1f}-{max(medians):.1f})   p99 {statistics.median(tails):6.1f} ms "
            f"({min(tails):.1f}-{max(tails):.1f})"
        )
    for (quiet_p50, quiet_p99), (p50, p99, probes, sent, load) in zip(idle, busy, strict=True):
        print(
            f"  run: no attack p50 {quiet_p50:.1f} / p99 {quiet_p99:.1f} ms; under attack "
            f"{probes} probes, {sent} attack requests, p50 {p50:.1f} / p99 {p99:.1f} ms; "
            f"load average after {load}"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="attack this running server instead of starting one")
    parser.add_argument("--workers", type=int, default=2, help="workers of the started server")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=3, help="sends per attack in phase 1")
    parser.add_argument(
        "--duration", type=float, default=10, help="seconds of phase 2 (half: of the reference)"
    )
    parser.add_argument("--concurrency", type=int, default=4, help="attacking clients, phase 2")
    args = parser.parse_args()
    with server(args.url, args.workers) as url:
        asyncio.run(run(url, args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
