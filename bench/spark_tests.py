"""Wall time and CPU seconds of the Spark tests, the JVM and its Python workers included.

The Spark tests' cost in CI (the issue's bound: under 5 minutes added). ``/usr/bin/time -v``
alone undercounts: the JVM that pyspark starts is not waited for by pytest, so its CPU never
reaches pytest's rusage. This runs pytest on the Spark tests (the same selection as the
README's "Tests and CI" figure, or the arguments given after ``--``) and samples every process
below it from /proc every half second (each one's last-seen CPU time), adding pytest's own and
its reaped children's rusage:

    .venv/bin/python bench/spark_tests.py
    .venv/bin/python bench/spark_tests.py -- tests/spark -k cli

With ``MOVIEREC_TEST_POSTGRES_URL`` set (``bash .ci/postgres``) the JDBC test runs too. The load
average before and after is printed: on a shared machine CPU seconds are the steadier figure.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

from spark_scale import TICK, descendants

# The Spark tests: tests/spark and the MLlib model's contract tests.
SELECTION = ["tests/spark", "tests/recommender/test_contract.py::TestMLlibALSRating"]


def process_cpu(pid: int) -> float | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(stat[11]) + int(stat[12])) / TICK


def jvms_and_workers(pid: int) -> list[int]:
    """The JVMs below ``pid`` and their Python workers: processes nobody in pytest's line
    waits for (a subprocess that pytest waits for is in its children's rusage already)."""
    found = []
    for child in descendants(pid):
        try:
            command = Path(f"/proc/{child}/comm").read_text().strip()
        except OSError:
            continue
        if command == "java":
            found += [child, *descendants(child)]
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pytest_args", nargs="*", help="pytest arguments (after --)")
    args = parser.parse_args()
    root = Path(__file__).resolve().parents[1]
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--durations=8"]
    command += args.pytest_args or SELECTION
    print("load average before:", " ".join(f"{x:.2f}" for x in os.getloadavg()))
    started = time.perf_counter()
    pytest = subprocess.Popen(command, cwd=root)
    seen: dict[int, float] = {}
    while pytest.poll() is None:
        for pid in jvms_and_workers(pytest.pid):
            cpu = process_cpu(pid)
            if cpu is not None:
                seen[pid] = cpu
        time.sleep(0.5)
    wall = time.perf_counter() - started
    reaped = resource.getrusage(resource.RUSAGE_CHILDREN)
    own = reaped.ru_utime + reaped.ru_stime
    print("load average after:", " ".join(f"{x:.2f}" for x in os.getloadavg()))
    print(
        f"exit {pytest.returncode}; wall {wall:.1f} s; CPU {own + sum(seen.values()):.1f} s "
        f"(pytest and reaped children {own:.1f} s, JVM and workers last seen "
        f"{sum(seen.values()):.1f} s, {len(seen)} processes)"
    )
    sys.exit(pytest.returncode)


if __name__ == "__main__":
    main()
