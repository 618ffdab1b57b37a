"""``movierec etl`` at scale: wall time, CPU time and peak memory of a first load and a rerun.

Each load is a separate ``movierec etl`` process under ``/usr/bin/time -v`` (its "Maximum
resident set size" is the peak memory the issue bounds at 4 GB), into a new SQLite store in a
temporary folder or, with ``--database URL``, into that PostgreSQL database emptied first
(every table dropped: use a database of its own). On a shared machine wall time is CPU time
over the share of the cores the load got, so the load average before and after each run is
printed beside it; PostgreSQL's own CPU is in the server's processes, not in the figure.

    .venv/bin/python bench/synth_movielens.py --out /tmp/ml25m-synth   # once, ~5 min
    .venv/bin/python bench/etl_scale.py --movielens /tmp/ml25m-synth
    .venv/bin/python bench/etl_scale.py --movielens /tmp/ml25m-synth \\
        --database postgresql+psycopg://postgres@127.0.0.1:55731/movierec_bench

``--rerun`` also times a second load into the same store (every row merged again, nothing
changed). The figures go into the README's "Scale" section.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import MetaData

from data.db import make_engine

PROJECT_ROOT = Path(__file__).resolve().parents[1]
TIME = "/usr/bin/time"


@dataclass(frozen=True)
class Run:
    wall: float
    cpu: float
    peak_mb: float
    load_before: float
    load_after: float

    def line(self, label: str) -> str:
        return (
            f"{label:<10} wall {self.wall:7.1f} s   CPU {self.cpu:6.1f} s   peak RSS "
            f"{self.peak_mb:6.0f} MB   load average {self.load_before:.1f} -> {self.load_after:.1f}"
        )


def timed_etl(movielens: Path, data_dir: Path, database: str | None) -> Run:
    """One ``movierec etl`` process under ``/usr/bin/time -v``; fails loudly if it fails."""
    env = {**os.environ, "MOVIEREC_DATA_DIR": str(data_dir)}
    env.pop("MOVIEREC_DATABASE_URL", None)
    if database:
        env["MOVIEREC_DATABASE_URL"] = database
    command = [TIME, "-v", sys.executable, "-m", "movierec", "etl", "--movielens", str(movielens)]
    before = os.getloadavg()[0]
    done = subprocess.run(command, env=env, cwd=PROJECT_ROOT, capture_output=True, text=True)
    after = os.getloadavg()[0]
    if done.returncode != 0:
        sys.exit(f"movierec etl failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    print(done.stderr.split("\tCommand being timed")[0].rstrip(), file=sys.stderr)
    report = dict(re.findall(r"^\s*(.+?): (.+)$", done.stderr, re.MULTILINE))
    return Run(
        wall=_seconds(report["Elapsed (wall clock) time (h:mm:ss or m:ss)"]),
        cpu=float(report["User time (seconds)"]) + float(report["System time (seconds)"]),
        peak_mb=int(report["Maximum resident set size (kbytes)"]) / 1024,
        load_before=before,
        load_after=after,
    )


def _seconds(clock: str) -> float:
    """``h:mm:ss`` or ``m:ss.ss`` as seconds."""
    total = 0.0
    for part in clock.split(":"):
        total = total * 60 + float(part)
    return total


def empty(database: str) -> None:
    """Drop every table of the benchmark's PostgreSQL database."""
    engine = make_engine(database)
    try:
        found = MetaData()
        found.reflect(engine)
        found.drop_all(engine)
    finally:
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--movielens", type=Path, default=Path("/tmp/ml25m-synth"))
    parser.add_argument("--database", help="a PostgreSQL URL (default: a new SQLite store)")
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--rerun", action="store_true", help="also time a rerun into the store")
    args = parser.parse_args()
    if shutil.which(TIME) is None:
        sys.exit(f"{TIME} is needed (Debian: apt-get install time)")
    where = "PostgreSQL" if args.database else "SQLite"
    print(f"movierec etl of {args.movielens} into {where}, {os.cpu_count()} cores:")
    for number in range(1, args.runs + 1):
        with tempfile.TemporaryDirectory() as folder:
            if args.database:
                empty(args.database)
            print(timed_etl(args.movielens, Path(folder), args.database).line(f"first {number}"))
            if args.rerun:
                rerun = timed_etl(args.movielens, Path(folder), args.database)
                print(rerun.line(f"rerun {number}"))
    if args.database:
        empty(args.database)


if __name__ == "__main__":
    main()
