"""Load test of the running API with wrk: req/s, p50 and p99 per path.

    apt-get install -y wrk                      # Debian's wrk, the load generator used here
    .venv/bin/python bench/api_load.py          # starts `movierec serve --workers 2`, measures
    .venv/bin/python bench/api_load.py --url http://127.0.0.1:5000   # against a running server
    .venv/bin/python bench/api_load.py --floor --duration 10    # against the framework's floor
    .venv/bin/python bench/api_load.py --postgres postgresql+psycopg://...   # PostgreSQL : SQLite
    MOVIEREC_RECOMMENDATION_CACHE_ENTRIES=0 .venv/bin/python bench/api_load.py --floor --users 300

``--floor`` asks for user 1 every time, so with the ranking cache (graph/services/ranking_cache.py)
every request after the first is a hit; ``--users N`` spreads the requests over users 1..N (a
token each for GraphQL), and with the cache off (as above) every request ranks anew: report both.

``--floor`` serves bench/floor_app.py beside movierec (same workers, same uvicorn settings) and
``--postgres`` a second movierec on that PostgreSQL store (loaded first with
``MOVIEREC_DATABASE_URL=<url> movierec etl``; the two share the data folder, so the model and
the token secret); each measures both servers on the same paths in ``--rounds`` interleaved
rounds (A/B, B/A, ...) and prints the second's share of the first's rate, and of the server CPU
per request (read from /proc), with the spread over the rounds and the load average.

It measures, each for ``--duration`` seconds with ``wrk -t2 -c8`` (the settings the original
Flask backend was measured with: 8.3 req/s on recommendations, p50 924 ms; 133 req/s on movies;
756 req/s on login):
  GET  /user/1/recommendations     legacy shim, the served model's top 10
  GET  /user/1/movies              legacy shim, the 232 movies user 1 rated
  POST /graphql                    viewer { recommendations(first: 10) { id title posterUrl } }
  POST /login                      legacy login (argon2id, slow by design)
  GET  /user/1/movies during logins  reads while /login is hammered by a second wrk

Started by the script, the server's access log goes to /dev/null (as it would go to a file or
journal in production, not to a terminal). Targets: >= 1,000 req/s and p99 <= 50 ms on the two
legacy GET paths, >= 500 req/s on the GraphQL query.

Measured 2026-11-25 on this 2-core machine, ml-latest-small, model puresvd+svd-knn-blend,
`movierec serve --workers 2`, `wrk -t2 -c8 -d20s`, access log to /dev/null, no other job
running (`MOVIEREC_DATA_DIR=<fresh store> .venv/bin/python bench/api_load.py --duration 20`):

    path                                    req/s   p50 ms   p99 ms
    GET /user/1/recommendations              2269     3.31    32.29
    GET /user/1/movies                       2277     3.20    12.12
    POST /graphql viewer.recommendations      831     9.14    60.67
    POST /login                                99    80.10    92.27
    GET /user/1/movies during logins         1660     4.01    17.94

Three earlier runs the same hour gave 1498-2184 req/s (p99 28-32 ms) on recommendations,
2219-2437 on movies, 858-862 on GraphQL (two runs): wrk shares the two cores with the server, so the
figures move by about a quarter from run to run. With `--workers 1` (busy machine, 10 s):
586 req/s on recommendations, 557 on movies, 294 on GraphQL; serve with 2 workers on 2 cores.

2026-12-01, load average 28-34 from other jobs on the two cores, `--duration 10`, ml-latest-small
(median share over the rounds, spread in brackets; README "Scale" has the whole record):

    --floor --rounds 3           rate share          server CPU share
    GET /user/1/recommendations  0.16 (0.14-0.22)    0.15 (0.11-0.16)   before: 0.08, 0.08
    POST /graphql viewer.recs    0.19 (0.16-0.19)    0.22 (0.18-0.23)   before: 0.12, 0.13
    2026-12-01 11:25-11:30, load 19-37, main then GraphQL on its own loop, back to back:
    GET /user/1/recommendations  0.28 (0.23-0.32) -> 0.14 (0.12-0.22)   0.16 -> 0.14
    POST /graphql viewer.recs    0.18 (0.17-0.29) -> 0.30 (0.22-0.41)   0.25 -> 0.26
    again 11:58-12:03, load 16-26, with the 0.5 ms thread switch:
    GET /user/1/recommendations  0.11 (0.10-0.12) -> 0.15 (0.11-0.19)   0.14 -> 0.12
    POST /graphql viewer.recs    0.15 (0.14-0.29) -> 0.18 (0.15-0.28)   0.21 -> 0.22
    --postgres --rounds 2        PostgreSQL's share of SQLite's rate
    GET /user/1/recommendations  0.78 (0.48-1.08)
    GET /user/1/movies           1.05 (0.72-1.38)
    POST /graphql viewer.recs    0.90 (0.61-1.18)

2026-12-01 11:10-11:45, branch w4-scale, --postgres --rounds 3 --duration 10, rate share
(spread) and worker-CPU share; README "Scale" has the whole record:

    (a) before the pool change, load 11-16; (b) pool 16 + 24, load 11-19; (c) and .all(),
    load 26-30; each: rate share (spread), worker-CPU share
    GET /user/1/recommendations  (a) 0.58 (0.53-0.75) 0.82  (b) 0.89 (0.74-1.13) 0.88
                                 (c) 0.84 (0.60-1.49) 0.81
    GET /user/1/movies           (a) 0.59 (0.42-0.95) 0.82  (b) 0.69 (0.65-0.71) 0.70
                                 (c) 0.73 (0.57-2.03) 0.81
    POST /graphql viewer.recs    (a) 0.68 (0.63-0.83) 0.87  (b) 1.00 (0.93-1.08) 0.95
                                 (c) 0.74 (0.74-0.86) 0.77
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from statistics import median

from timing import median_spread

PROJECT_ROOT = Path(__file__).resolve().parents[1]
GRAPHQL_QUERY = "{ viewer { recommendations(first: 10) { id title posterUrl } } }"


@dataclass(frozen=True)
class Result:
    name: str
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    errors: str


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="measure this running server instead of starting one")
    parser.add_argument("--workers", type=int, default=2, help="workers of each started server")
    parser.add_argument("--duration", type=int, default=20, help="seconds per measurement")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--floor",
        action="store_true",
        help="the two served paths against their framework floor (bench/floor_app.py), "
        "interleaved, with movierec's share of the floor's rate",
    )
    parser.add_argument(
        "--postgres",
        metavar="URL",
        help="the three read paths on the SQLite store and on this PostgreSQL one (loaded with "
        "`MOVIEREC_DATABASE_URL=URL movierec etl`), interleaved, with PostgreSQL's share",
    )
    parser.add_argument(
        "--rounds", type=int, default=3, help="rounds of --floor or --postgres comparisons"
    )
    parser.add_argument(
        "--users",
        type=int,
        default=1,
        help="with --floor: spread the requests over users 1..N at random (each a legacy path "
        "of its own and, for GraphQL, a token of its own from logging in userN), instead of "
        "user 1 every time; with the server's MOVIEREC_RECOMMENDATION_CACHE_ENTRIES=0 every "
        "request then ranks anew (a miss-heavy load)",
    )
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("wrk not found: apt-get install -y wrk", file=sys.stderr)
        return 2
    if args.floor and args.postgres:
        parser.error("--floor and --postgres are separate comparisons: run one at a time")
    if args.users < 1 or (args.users > 1 and not args.floor):
        parser.error("--users takes a count of 1 or more, and goes with --floor")
    print(f"load average at start: {load_average()}", flush=True)
    with server(args.url, args.workers) as url:
        if args.floor:
            compare_with_floor(url, args)
        elif args.postgres:
            with server(None, args.workers, database_url=args.postgres) as postgres:
                compare_stores(url, postgres, args)
        else:
            show(measure(url, args))
    print(f"load average at end: {load_average()}")
    return 0


def load_average() -> str:
    return " ".join(f"{value:.1f}" for value in os.getloadavg())


def show(results: list[Result]) -> None:
    print(f"\n{'path':<44} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8}  errors")
    for r in results:
        print(
            f"{r.name:<44} {r.requests_per_second:>9.0f} {r.p50_ms:>8.2f} {r.p99_ms:>8.2f}  "
            f"{r.errors or '-'}"
        )


def measure(url: str, args: argparse.Namespace) -> list[Result]:
    token = login_token(url)
    with tempfile.TemporaryDirectory() as folder:
        graphql = graphql_script(Path(folder), token)
        login = post_script(
            Path(folder) / "login.lua",
            json.dumps({"username": "user1", "password": "pass"}),
            {"Content-Type": "application/json"},
        )
        results = [
            wrk("GET /user/1/recommendations", f"{url}/user/1/recommendations", args),
            wrk("GET /user/1/movies", f"{url}/user/1/movies", args),
            wrk("POST /graphql viewer.recommendations(10)", f"{url}/graphql", args, graphql),
            wrk("POST /login", f"{url}/login", args, login),
        ]
        hammer = subprocess.Popen(
            ["wrk", "-t1", "-c4", f"-d{args.duration + 2}s", "-s", str(login), f"{url}/login"],
            stdout=subprocess.DEVNULL,
        )
        try:
            time.sleep(1)
            results.append(wrk("GET /user/1/movies during logins", f"{url}/user/1/movies", args))
        finally:
            hammer.wait()
    return results


@dataclass(frozen=True)
class Request:
    """One path as wrk sends it, the same bytes to every server compared."""

    name: str
    path: str
    script: Path | None = None


def compare_with_floor(url: str, args: argparse.Namespace) -> None:
    """movierec's two served paths and the floor's, interleaved, with movierec's share.

    The legacy floor answers with movierec's own body for user 1, so both send the same bytes
    (with ``--users``, about the same: every user's list is ten movies).
    """
    with tempfile.TemporaryDirectory() as folder:
        body = Path(folder) / "legacy.json"
        with urllib.request.urlopen(f"{url}/user/1/recommendations", timeout=30) as response:
            body.write_bytes(response.read())
        if args.users == 1:
            requests = [
                Request("GET /user/1/recommendations", "/user/1/recommendations"),
                Request(
                    "POST /graphql viewer.recommendations(10)",
                    "/graphql",
                    graphql_script(Path(folder), login_token(url)),
                ),
            ]
        else:
            tokens = [login_token(url, f"user{user}") for user in range(1, args.users + 1)]
            requests = [
                Request(
                    f"GET /user/1..{args.users}/recommendations",
                    "/user/1/recommendations",
                    users_script(Path(folder), args.users),
                ),
                Request(
                    f"POST /graphql viewer.recs(10), {args.users} users",
                    "/graphql",
                    graphql_script(Path(folder), *tokens),
                ),
            ]
        env = {**os.environ, "MOVIEREC_FLOOR_LEGACY": str(body)}
        with floor_server(args.workers, env) as floor:
            compare({"floor": floor, "movierec": url}, requests, args)


def compare_stores(sqlite: str, postgres: str, args: argparse.Namespace) -> None:
    """The same read paths on both stores, interleaved, with PostgreSQL's share of SQLite's."""
    with tempfile.TemporaryDirectory() as folder:
        # One token serves both: the servers share the data folder, so the secret and user 1.
        requests = [
            Request("GET /user/1/recommendations", "/user/1/recommendations"),
            Request("GET /user/1/movies", "/user/1/movies"),
            Request(
                "POST /graphql viewer.recommendations(10)",
                "/graphql",
                graphql_script(Path(folder), login_token(sqlite)),
            ),
        ]
        compare({"sqlite": sqlite, "postgresql": postgres}, requests, args)


def compare(servers: dict[str, str], requests: list[Request], args: argparse.Namespace) -> None:
    """Each request on each server, ``args.rounds`` times, the second server's share printed.

    Interleaved A/B, B/A, A/B, ...: the two measurements of a pair are back to back and each
    server goes first as often as the other, so a drift of the machine's load (other jobs on the
    same cores) falls on both sides instead of on one.

    Beside the rates, the CPU the server's processes spent per request (from /proc, for servers
    this script started) and its share the other way round: on cores shared with other jobs the
    scheduler favours a process that works in short bursts, so the rate share falls far below
    the CPU share as the load average rises, while the CPU share moves little.
    """
    (base_name, base), (other_name, other) = servers.items()
    shares: dict[tuple[str, str], list[float]] = {}
    rates: dict[tuple[str, str], list[float]] = {}
    for number in range(args.rounds):
        for request in requests:
            pair = [(base_name, base), (other_name, other)]
            measured: dict[str, tuple[float, float | None]] = {}
            for name, url in pair if number % 2 == 0 else reversed(pair):
                cpu = server_cpu_seconds(url)
                result = wrk(
                    f"{name}: {request.name}", f"{url}{request.path}", args, request.script
                )
                spent = server_cpu_seconds(url)
                if result.errors:  # timeouts (over 2 s) on a loaded machine, or failures
                    print(f"{result.name}: {result.errors}", flush=True)
                requests_made = result.requests_per_second * args.duration
                per_request = (
                    (spent - cpu) / requests_made if spent is not None and cpu is not None else None
                )
                measured[name] = (result.requests_per_second, per_request)
                rates.setdefault((request.name, name), []).append(result.requests_per_second)
            (base_rate, base_cpu), (other_rate, other_cpu) = (
                measured[base_name],
                measured[other_name],
            )
            shares.setdefault((request.name, "rate"), []).append(other_rate / base_rate)
            line = f"{other_name} {other_rate:.0f}, {base_name} {base_rate:.0f} req/s"
            line += f": {other_rate / base_rate:.2f}"
            if base_cpu and other_cpu:
                shares.setdefault((request.name, "cpu"), []).append(base_cpu / other_cpu)
                line += f"; CPU per request {other_cpu * 1e3:.2f} and {base_cpu * 1e3:.2f} ms"
                line += f": {base_cpu / other_cpu:.2f}"
            print(
                f"round {number + 1}: {request.name}: {line}  (load {load_average()})", flush=True
            )
    print(f"\n{other_name}'s share of {base_name}'s, {args.rounds} interleaved rounds:")
    print(
        f"{'path':<44} {base_name + ' req/s':>16} {other_name + ' req/s':>16}  "
        "rate share (spread)  CPU share (spread)"
    )
    for request in requests:
        spread = {
            kind: median_spread(values)
            for (name, kind), values in shares.items()
            if name == request.name
        }
        print(
            f"{request.name:<44} {median(rates[request.name, base_name]):>16.0f} "
            f"{median(rates[request.name, other_name]):>16.0f}  "
            f"{spread['rate']:<19}  {spread.get('cpu', '-')}"
        )


# The processes of the servers this script started, by base URL, for their CPU time.
_STARTED: dict[str, int] = {}


def server_cpu_seconds(url: str) -> float | None:
    """User + system CPU seconds of a started server's workers so far (None if not started here)."""
    parent = _STARTED.get(url)
    if parent is None:
        return None
    ticks = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # a process that just exited
            continue
        if int(fields[1]) == parent:  # ppid: a worker (or uvicorn's resource tracker, idle)
            ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


@contextmanager
def floor_server(workers: int, env: dict[str, str]) -> Iterator[str]:
    """bench/floor_app.py under uvicorn, with the server settings of ``graph.server``."""
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", "floor_app:app", "--factory"]
    command += ["--app-dir", str(PROJECT_ROOT / "bench"), "--port", str(port)]
    command += ["--workers", str(workers), "--loop", "uvloop", "--http", "httptools"]
    command += ["--no-access-log", "--no-proxy-headers", "--log-level", "warning"]
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    _STARTED[base] = process.pid
    try:
        wait_ready(base, process, path="/user/1/recommendations")
        yield base
    finally:
        process.terminate()
        process.wait(30)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wrk(name: str, url: str, args: argparse.Namespace, script: Path | None = None) -> Result:
    command = [
        "wrk",
        f"-t{args.threads}",
        f"-c{args.connections}",
        f"-d{args.duration}s",
        "--latency",
        *(["-s", str(script)] if script else []),
        url,
    ]
    print("$", " ".join(command), flush=True)
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    errors = [line.strip() for line in output.splitlines() if "Non-2xx" in line or "Socket" in line]
    return Result(
        name=name,
        requests_per_second=float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
        p50_ms=_latency(output, "50%"),
        p99_ms=_latency(output, "99%"),
        errors="; ".join(errors),
    )


def _latency(output: str, percentile: str) -> float:
    value, unit = re.search(rf"{percentile}\s+([\d.]+)(us|ms|s)", output).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def graphql_script(folder: Path, token: str, *more: str) -> Path:
    """The GraphQL request; with more than one token, each request carries one at random."""
    script = post_script(
        folder / "graphql.lua",
        json.dumps({"query": GRAPHQL_QUERY}),
        {"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
    )
    if more:
        bearers = ", ".join(json.dumps(f"Bearer {one}") for one in (token, *more))
        with script.open("a") as lua:
            lua.write(f"local tokens = {{{bearers}}}\n")
            lua.write("request = function()\n")
            lua.write('  wrk.headers["Authorization"] = tokens[math.random(#tokens)]\n')
            lua.write("  return wrk.format()\nend\n")
    return script


def users_script(folder: Path, users: int) -> Path:
    """GET /user/<id>/recommendations for an id drawn at random from 1..``users``."""
    script = folder / "users.lua"
    script.write_text(
        "request = function()\n"
        f'  return wrk.format(nil, "/user/" .. math.random({users}) .. "/recommendations")\n'
        "end\n"
    )
    return script


def post_script(path: Path, body: str, headers: dict[str, str]) -> Path:
    lines = ['wrk.method = "POST"', f"wrk.body = {json.dumps(body)}"]
    lines += [f'wrk.headers["{key}"] = {json.dumps(value)}' for key, value in headers.items()]
    path.write_text("\n".join(lines) + "\n")
    return path


def login_token(url: str, username: str = "user1") -> str:
    query = (
        f'mutation {{ login(username: "{username}", password: "pass") '
        "{ ... on AuthPayload { token } } }"
    )
    request = urllib.request.Request(
        f"{url}/graphql",
        data=json.dumps({"query": query}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)["data"]["login"]["token"]


@contextmanager
def server(url: str | None, workers: int, database_url: str | None = None) -> Iterator[str]:
    """The given URL, or a `movierec serve` started on a free port and stopped afterwards
    (on ``database_url`` when given, else on the configured store)."""
    if url:
        yield url.rstrip("/")
        return
    port = free_port()
    env = os.environ.copy()
    if database_url:
        env["MOVIEREC_DATABASE_URL"] = database_url
    process = subprocess.Popen(
        [sys.executable, "-m", "movierec", "serve", "--port", str(port), "--workers", str(workers)],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    _STARTED[base] = process.pid
    try:
        wait_ready(base, process)
        yield base
    finally:
        process.terminate()
        process.wait(30)


def wait_ready(
    base: str, process: subprocess.Popen[bytes], timeout: float = 300, path: str = "/readyz"
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the server exited with {process.returncode}")
        try:
            with urllib.request.urlopen(f"{base}{path}", timeout=2) as response:
                print("ready:", response.read().decode()[:200], flush=True)
                return
        except OSError:
            time.sleep(0.5)
    raise SystemExit(f"the server was not ready within {timeout:.0f} s")


if __name__ == "__main__":
    sys.exit(main())
