"""CPU per warm request with no network: movierec's app against the floor app, in one process.

``api_load.py --floor`` measures through uvicorn and wrk, with the servers, wrk and whatever else
runs sharing two cores: its shares move by a tenth from round to round, more than a change of a
tenth of a millisecond per request can show. This calls both ASGI apps directly (movierec's as
``movierec serve`` builds it, ``bench/floor_app.py`` beside it), the same requests as
``api_load.py`` (8 in flight, a fixed count per block), and takes the process's CPU time
(``time.process_time``: every thread, GraphQL's loop included) per block, alternating the apps
block by block. The floor's CPU per request over movierec's is the same "CPU share" api_load
prints, without HTTP parsing and socket writes, which both sides pay alike: so it reads lower
than api_load's share, and a change in it is a change in movierec's own work.

    MOVIEREC_DATA_DIR=<store> .venv/bin/python bench/asgi_cpu.py [--requests 2000 --rounds 5]

The store must hold user1 (password ``pass``) and a trained model (``movierec etl`` and
``movierec train``, or a first ``movierec serve``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import floor_app
import uvloop
from api_load import GRAPHQL_QUERY, load_average
from timing import median_spread

Scope = MutableMapping[str, Any]
App = Callable[[Scope, Any, Any], Awaitable[None]]
IN_FLIGHT = 8


async def call(app: App, method: str, path: str, body: bytes = b"", token: str = "") -> bytes:
    """One request through ``app``; its body, after checking it answered 200."""
    headers = [(b"host", b"bench"), (b"content-length", str(len(body)).encode())]
    if body:
        headers.append((b"content-type", b"application/json"))
    if token:
        headers.append((b"authorization", f"Bearer {token}".encode()))
    scope: Scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": headers,
        "client": ("127.0.0.1", 40000),
        "server": ("127.0.0.1", 5000),
        "state": {},
    }
    done = asyncio.Event()
    delivered = False
    status = 0
    chunks: list[bytes] = []

    async def receive() -> dict[str, Any]:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}
        await done.wait()  # the client stays until the answer is sent
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                done.set()

    await app(scope, receive, send)
    answer = b"".join(chunks)
    if status != 200:
        raise SystemExit(f"{method} {path} answered {status}: {answer[:200]!r}")
    return answer


async def block(app: App, requests: int, method: str, path: str, body: bytes, token: str) -> float:
    """CPU seconds per request over ``requests`` requests, ``IN_FLIGHT`` at a time."""
    per_client = requests // IN_FLIGHT

    async def client() -> None:
        for _ in range(per_client):
            await call(app, method, path, body, token)

    started = time.process_time()
    await asyncio.gather(*(client() for _ in range(IN_FLIGHT)))
    return (time.process_time() - started) / (per_client * IN_FLIGHT)


async def measure(args: argparse.Namespace) -> None:
    from movierec.bootstrap import asgi_app

    movierec: App = asgi_app()
    legacy = await call(movierec, "GET", "/user/1/recommendations")
    login = json.dumps(
        {
            "query": 'mutation { login(username: "user1", password: "pass") '
            "{ ... on AuthPayload { token } } }"
        }
    ).encode()
    token = json.loads(await call(movierec, "POST", "/graphql", login))["data"]["login"]["token"]
    with tempfile.NamedTemporaryFile("wb", suffix=".json") as envelope:
        envelope.write(legacy)
        envelope.flush()
        os.environ["MOVIEREC_FLOOR_LEGACY"] = envelope.name
        floor: App = floor_app.app()
    paths = {
        "GET /user/1/recommendations": ("GET", "/user/1/recommendations", b""),
        "POST /graphql viewer.recommendations(10)": (
            "POST",
            "/graphql",
            json.dumps({"query": GRAPHQL_QUERY}).encode(),
        ),
    }
    apps = {"movierec": movierec, "floor": floor}
    cpu: dict[tuple[str, str], list[float]] = {(p, a): [] for p in paths for a in apps}
    for method, path, body in paths.values():
        for app in apps.values():  # warm: caches, DataLoaders' first loop, the side loop
            await block(app, IN_FLIGHT * 20, method, path, body, token)
    for round_ in range(1, args.rounds + 1):
        for name, (method, path, body) in paths.items():
            # A/B in one round, B/A in the next: neither side always runs first.
            order = list(apps) if round_ % 2 else list(reversed(apps))
            for app_name in order:
                spent = await block(apps[app_name], args.requests, method, path, body, token)
                cpu[(name, app_name)].append(spent)
            mine, base = cpu[(name, "movierec")][-1], cpu[(name, "floor")][-1]
            print(
                f"round {round_}: {name}: movierec {mine * 1e3:.3f}, floor {base * 1e3:.3f} "
                f"ms of CPU per request: {base / mine:.2f}",
                flush=True,
            )
    print(f"\nmovierec's CPU share of the floor's, {args.rounds} alternating rounds, in process:")
    print(f"{'path':<44} {'movierec ms':>12} {'floor ms':>9}  share (spread)")
    for name in paths:
        mine_all, base_all = cpu[(name, "movierec")], cpu[(name, "floor")]
        shares = [b / m for m, b in zip(mine_all, base_all, strict=True)]
        print(
            f"{name:<44} {statistics.median(mine_all) * 1e3:>12.3f} "
            f"{statistics.median(base_all) * 1e3:>9.3f}  {median_spread(shares)}"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000, help="requests per block")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    print(f"load average at start: {load_average()}", flush=True)
    uvloop.run(measure(args))
    print(f"load average at end: {load_average()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
