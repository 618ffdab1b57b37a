"""Load test of the running API with wrk: req/s, p50 and p99 per path.

    apt-get install -y wrk                      # Debian's wrk, the load generator used here
    .venv/bin/python bench/api_load.py          # starts `movierec serve --workers 2`, measures
    .venv/bin/python bench/api_load.py --url http://127.0.0.1:5000   # against a running server

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
    parser.add_argument("--workers", type=int, default=2, help="workers of the started server")
    parser.add_argument("--duration", type=int, default=20, help="seconds per path")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--floor",
        action="store_true",
        help="only the two served paths, each against its framework floor (bench/floor_app.py) "
        "with the same workers, in the same run, with the ratio",
    )
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("wrk not found: apt-get install -y wrk", file=sys.stderr)
        return 2
    with server(args.url, args.workers) as url:
        results = against_floor(url, args) if args.floor else measure(url, args)
    print(f"\n{'path':<44} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8}  errors")
    for r in results:
        print(
            f"{r.name:<44} {r.requests_per_second:>9.0f} {r.p50_ms:>8.2f} {r.p99_ms:>8.2f}  "
            f"{r.errors or '-'}"
        )
    return 0


def measure(url: str, args: argparse.Namespace) -> list[Result]:
    token = login_token(url)
    with tempfile.TemporaryDirectory() as folder:
        graphql = post_script(
            Path(folder) / "graphql.lua",
            json.dumps({"query": GRAPHQL_QUERY}),
            {"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
        )
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


def against_floor(url: str, args: argparse.Namespace) -> list[Result]:
    """movierec's two served paths and their floors, alternating, with movierec's share.

    The legacy floor answers with movierec's own body for user 1, so both send the same bytes.
    """
    token = login_token(url)
    results = []
    with tempfile.TemporaryDirectory() as folder:
        body = Path(folder) / "legacy.json"
        with urllib.request.urlopen(f"{url}/user/1/recommendations", timeout=30) as response:
            body.write_bytes(response.read())
        query = json.dumps({"query": GRAPHQL_QUERY})
        graphql = post_script(
            Path(folder) / "graphql.lua",
            query,
            {"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
        )
        floor_graphql = post_script(
            Path(folder) / "floor.lua", query, {"Content-Type": "application/json"}
        )
        env = {**os.environ, "MOVIEREC_FLOOR_LEGACY": str(body)}
        paths = (
            ("GET /user/1/recommendations", "legacy_app", "/user/1/recommendations", None),
            ("POST /graphql viewer.recommendations(10)", "graphql_app", "/graphql", graphql),
        )
        for name, floor_app, path, script in paths:
            floor_script = floor_graphql if script else None
            with floor_server(floor_app, args.workers, env) as floor:
                low = wrk(f"floor: {name}", f"{floor}{path}", args, floor_script)
            served = wrk(name, f"{url}{path}", args, script)
            ratio = served.requests_per_second / low.requests_per_second
            results += [low, served]
            print(f"{name}: {ratio:.2f} of the floor", flush=True)
    return results


@contextmanager
def floor_server(factory: str, workers: int, env: dict[str, str]) -> Iterator[str]:
    """A floor app of bench/floor_app.py under uvicorn, as `movierec serve` runs movierec."""
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", f"floor_app:{factory}", "--factory"]
    command += ["--app-dir", str(PROJECT_ROOT / "bench"), "--port", str(port)]
    command += ["--workers", str(workers), "--no-access-log", "--log-level", "warning"]
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_ready(
            base,
            process,
            path="/user/1/recommendations"
            if "legacy" in factory
            else "/graphql?query=%7B__typename%7D",
        )
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


def post_script(path: Path, body: str, headers: dict[str, str]) -> Path:
    lines = ['wrk.method = "POST"', f"wrk.body = {json.dumps(body)}"]
    lines += [f'wrk.headers["{key}"] = {json.dumps(value)}' for key, value in headers.items()]
    path.write_text("\n".join(lines) + "\n")
    return path


def login_token(url: str) -> str:
    query = (
        'mutation { login(username: "user1", password: "pass") { ... on AuthPayload { token } } }'
    )
    request = urllib.request.Request(
        f"{url}/graphql",
        data=json.dumps({"query": query}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)["data"]["login"]["token"]


@contextmanager
def server(url: str | None, workers: int) -> Iterator[str]:
    """The given URL, or a `movierec serve` started on a free port and stopped afterwards."""
    if url:
        yield url.rstrip("/")
        return
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "movierec", "serve", "--port", str(port), "--workers", str(workers)],
        cwd=PROJECT_ROOT,
        env=os.environ.copy(),
        stdout=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
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
