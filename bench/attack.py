"""The worst requests we know of, against a real server, with /healthz latency measured meanwhile.

    .venv/bin/python bench/attack.py                    # starts `movierec serve --workers 2`
    .venv/bin/python bench/attack.py --url http://127.0.0.1:5000 --runs 3 --duration 10

Each run has two phases:
  1. alone: every attack sent one at a time, ``--repeat`` times; the slowest answer is what one
     such request costs a worker (target: at most 1 s for any request of at most 1 MB);
  2. together: ``--concurrency`` clients send the attacks round-robin for ``--duration`` seconds
     while one more client asks /healthz every 10 ms (target: p99 at most 100 ms).
It prints, per attack, the worst time of phase 1 over all runs and the answers seen (status and
error codes), and /healthz p50/p99 with its spread over the runs (also with no attack: the floor).

The attacks are those of issue 9 and the limits' edges: fragment bombs (each fragment spreads the
next twice: 2^22 spreads in 900 bytes), depth, aliases and objects at their limits, a batch of 10
operations at the object cap, 1 MB bodies (a 1 MB search string, a 1 MB comment, 1 MB of nested
JSON), a 5 MB body streamed without Content-Length, 1 MB legacy usernames, lone surrogates.

Measured 2026-12-01 on this 2-core machine shared with other jobs (load average about 12),
ml-latest-small, `movierec serve --workers 2`
(`MOVIEREC_DATA_DIR=<store> .venv/bin/python bench/attack.py --runs 3 --repeat 3 --duration 8
--concurrency 4`); worst of 9 sends alone:
    fragment bomb 116 ms (was 42 s); aliased bomb 40 ms, refused; depth 10 at 1,022 objects
    974 ms; 15 aliases x movies(100) 3,636 ms; 5,000 objects 8,120 ms or TIMEOUT at 5 s; batch
    of 10 at the cap 6,401 ms (one answered, nine refused); 1,990 identical fields 1,056 ms and
    1 MB of tokens 1,248 ms, both refused; every body, surrogate and legacy attack <= 106 ms.
    /healthz p99 36 ms idle, 197 ms under attack (runs 69-3,617 ms).
The allowed heavy queries miss the issue's targets (1 s per request, /healthz p99 100 ms): see
README.md, Performance.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import httpx
from api_load import server

MB = 1_000_000


@dataclass(frozen=True)
class Attack:
    name: str
    method: str
    path: str
    body: bytes | Callable[[], AsyncIterator[bytes]] | None = None


def graphql(query: str, variables: dict[str, object] | None = None) -> bytes:
    return json.dumps({"query": query, "variables": variables or {}}).encode()


def fragment_bomb(leaf: str) -> str:
    chain = " ".join(f"fragment F{n} on Query {{ ...F{n + 1} ...F{n + 1} }}" for n in range(22))
    return f"query {{ ...F0 }} {chain} fragment F22 on Query {{ {leaf} }}"


def nested_similar(levels: int, first: int) -> str:
    inner = "id title"
    for _ in range(levels):
        inner = f"id similar(first: {first}) {{ {inner} }}"
    return f"{{ movie(id: 1) {{ {inner} }} }}"


MOVIE_FIELDS = "id title overview genres posterUrl ratingStats { average count }"
HEAVY = (
    f"{{ movies(first: 100) {{ edges {{ node {{ {MOVIE_FIELDS} "
    f"similar(first: 49) {{ {MOVIE_FIELDS} }} }} }} }} }}"
)
ALIASES = " ".join(
    f'a{n}: movies(first: 100, search: "{chr(97 + n)}") {{ edges {{ node {{ {MOVIE_FIELDS} }} }} }}'
    for n in range(15)
)


async def streamed_5mb() -> AsyncIterator[bytes]:
    yield b'{"query": "'
    for _ in range(80):
        yield b"x" * 65_536
    yield b'"}'


def attacks() -> list[Attack]:
    one_mb = MB - 200
    return [
        Attack(
            "fragment bomb (23 fragments, 2^22 spreads)",
            "POST",
            "/graphql",
            graphql(fragment_bomb("genres")),
        ),
        Attack(
            "fragment bomb, aliased leaf", "POST", "/graphql", graphql(fragment_bomb("a: genres"))
        ),
        Attack(
            "depth 10, similar(first: 2) each level",
            "POST",
            "/graphql",
            graphql(nested_similar(9, 2)),
        ),
        Attack("15 aliases x movies(first: 100)", "POST", "/graphql", graphql(f"{{ {ALIASES} }}")),
        Attack("5,000 objects: movies(100) x similar(49)", "POST", "/graphql", graphql(HEAVY)),
        Attack(
            "batch of 10 at the object cap",
            "POST",
            "/graphql",
            json.dumps([{"query": HEAVY}] * 10).encode(),
        ),
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


async def send(client: httpx.AsyncClient, attack: Attack) -> tuple[str, float]:
    body = attack.body() if callable(attack.body) else attack.body
    started = time.perf_counter()
    response = await client.request(
        attack.method,
        attack.path,
        content=body,
        headers={"Content-Type": "application/json"} if body is not None else {},
    )
    await response.aread()
    return outcome(response), time.perf_counter() - started


async def alone(client: httpx.AsyncClient, repeat: int) -> dict[str, tuple[set[str], float]]:
    """Each attack on its own: its slowest answer is what it costs a worker."""
    worst: dict[str, tuple[set[str], float]] = {}
    for attack in attacks():
        statuses: set[str] = set()
        slowest = 0.0
        for _ in range(repeat):
            status, seconds = await send(client, attack)
            statuses.add(status)
            slowest = max(slowest, seconds)
        worst[attack.name] = (statuses, slowest)
    return worst


async def probe(url: str, stop: asyncio.Event) -> list[float]:
    times: list[float] = []
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        while not stop.is_set():
            started = time.perf_counter()
            response = await client.get("/healthz")
            assert response.status_code == 200, response.text
            times.append(time.perf_counter() - started)
            await asyncio.sleep(0.01)
    return times


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

    prober = asyncio.create_task(probe(url, stop))
    workers = [asyncio.create_task(attacker(i * 3)) for i in range(concurrency)]
    await asyncio.sleep(duration)
    stop.set()
    await asyncio.gather(*workers)
    return await prober, sent


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


async def run(url: str, args: argparse.Namespace) -> None:
    worst: dict[str, tuple[set[str], list[float]]] = {}
    idle: list[tuple[float, float]] = []
    busy: list[tuple[float, float, int, int]] = []
    for number in range(1, args.runs + 1):
        print(f"run {number}/{args.runs}", flush=True)
        stop = asyncio.Event()
        quiet = asyncio.create_task(probe(url, stop))
        await asyncio.sleep(2)
        stop.set()
        times = await quiet
        idle.append((percentile(times, 0.5), percentile(times, 0.99)))
        async with httpx.AsyncClient(base_url=url, timeout=60) as client:
            for name, (statuses, seconds) in (await alone(client, args.repeat)).items():
                seen, all_seconds = worst.setdefault(name, (set(), []))
                seen.update(statuses)
                all_seconds.append(seconds)
        times, sent = await together(url, args.concurrency, args.duration)
        busy.append((percentile(times, 0.5), percentile(times, 0.99), len(times), sent))

    print(f"\n{'attack (alone, worst of all runs)':<46} {'worst ms':>9} {'spread ms':>11}  answer")
    for name, (statuses, seconds) in worst.items():
        spread = f"{min(seconds) * 1000:.0f}-{max(seconds) * 1000:.0f}"
        answer = ", ".join(sorted(statuses))
        print(f"{name:<46} {max(seconds) * 1000:>9.0f} {spread:>11}  {answer}")
    print()
    for label, rows in (("/healthz, no attack", idle), ("/healthz under attack", busy)):
        p50 = [row[0] for row in rows]
        p99 = [row[1] for row in rows]
        print(
            f"{label:<24} p50 {statistics.median(p50):6.1f} ms ({min(p50):.1f}-{max(p50):.1f})"
            f"   p99 {statistics.median(p99):6.1f} ms ({min(p99):.1f}-{max(p99):.1f})"
        )
    for p50, p99, probes, sent in busy:
        print(f"  run: {probes} probes, {sent} attack requests, p50 {p50:.1f} ms, p99 {p99:.1f} ms")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="attack this running server instead of starting one")
    parser.add_argument("--workers", type=int, default=2, help="workers of the started server")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=3, help="sends per attack in phase 1")
    parser.add_argument("--duration", type=float, default=10, help="seconds of phase 2")
    parser.add_argument("--concurrency", type=int, default=4, help="attacking clients, phase 2")
    args = parser.parse_args()
    with server(args.url, args.workers) as url:
        asyncio.run(run(url, args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
