"""Wall time, CPU and peak memory of ``movierec train --engine spark`` on a MovieLens folder.

What the Spark engine does after ``movierec export --parquet`` (read the Parquet export, fit
every role on Spark, write the artifact), on ``ratings.csv`` of a MovieLens folder converted to
the export's Parquet once (the conversion is timed apart), so the ML-25M shape is measured
without loading 25 M ratings into a store first. Every ML-25M-size run takes the machine's
shared lock:

    flock /tmp/movierec-heavy.lock .venv/bin/python bench/spark_scale.py /work/synth/ml25m \\
        --master 'local[2]' --parquet /tmp/ml25m-parquet

Spark in local mode runs its executor inside the driver JVM, so "driver" below is that JVM
(its heap bounded by ``--driver-memory``) and "executor" the Python workers that run the
ranker's per-partition products; both peaks are sampled from /proc every half second, as is
each one's CPU time. The artifact is loaded back at the end (what a server does) and its size
reported. The figures and the machine's load average go into the README's "Spark" section.
"""

from __future__ import annotations

import argparse
import logging
import os
import resource
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd

from recommender.artifact import catalog_fingerprint
from recommender.serving import Recommender
from recommender.spark.session import spark_session
from recommender.spark.source import read_parquet, write_parquet
from recommender.spark.training import SparkConfig, fit_on_spark

TICK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


def descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (the JVM, and the Python workers it forks)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    found, stack = [], [pid]
    while stack:
        for child in children.get(stack.pop(), []):
            found.append(child)
            stack.append(child)
    return found


class Sampler(threading.Thread):
    """Peak RSS and last-seen CPU seconds of the JVM and of the Python workers."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.peak = {"driver (JVM)": 0, "executor (Python workers)": 0}
        self.cpu: dict[int, float] = {}
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.wait(0.5):
            totals = dict.fromkeys(self.peak, 0)
            for pid in descendants(os.getpid()):
                try:
                    stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                    command = Path(f"/proc/{pid}/comm").read_text().strip()
                except OSError:
                    continue
                rss = int(stat[21]) * PAGE
                self.cpu[pid] = (int(stat[11]) + int(stat[12])) / TICK
                kind = "driver (JVM)" if command == "java" else "executor (Python workers)"
                totals[kind] += rss
            for kind, rss in totals.items():
                self.peak[kind] = max(self.peak[kind], rss)


def convert(folder: Path, parquet: Path) -> float:
    """The export's Parquet from a MovieLens folder, once; returns its seconds (0 if cached)."""
    if (parquet / "ratings.parquet").exists():
        return 0.0
    started = time.perf_counter()
    frame = pd.read_csv(folder / "ratings.csv").rename(
        columns={"userId": "user_id", "movieId": "movie_id"}
    )
    catalog = pd.read_csv(folder / "movies.csv", usecols=["movieId"])["movieId"].to_numpy()
    write_parquet(frame, np.asarray(catalog, dtype=np.int64), parquet)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="MovieLens folder with ratings.csv")
    parser.add_argument("--parquet", type=Path, required=True, help="where the export goes")
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--driver-memory", default="5g")
    parser.add_argument("--partitions", type=int, default=SparkConfig().partitions)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    logging.getLogger("py4j").setLevel(logging.WARNING)
    converted = convert(args.folder, args.parquet)
    print(f"Parquet export from CSV: {converted:.1f} s (0: already there)", flush=True)
    load = os.getloadavg()
    sampler = Sampler()
    sampler.start()
    cpu_before = resource.getrusage(resource.RUSAGE_SELF)
    started = time.perf_counter()
    config = SparkConfig(partitions=args.partitions)
    conf = {"spark.driver.memory": args.driver_memory}
    with spark_session(args.master, config=conf) as spark:
        ratings = read_parquet(spark, str(args.parquet))
        recommender = fit_on_spark(ratings.frame, ratings.catalog_movie_ids, config, seed=args.seed)
        fitted = time.perf_counter() - started
        version = spark.version
        time.sleep(1.0)  # one more sample of the JVM's CPU before it stops
    with tempfile.TemporaryDirectory() as models:
        meta = {"catalog_fingerprint": catalog_fingerprint(ratings.catalog_movie_ids)}
        folder = recommender.save(Path(models), meta)
        size = sum(path.stat().st_size for path in folder.iterdir())
        loaded_at = time.perf_counter()
        Recommender.load(Path(models), catalog_movie_ids=ratings.catalog_movie_ids)
        loaded = time.perf_counter() - loaded_at
    wall = time.perf_counter() - started
    sampler.stop.set()
    sampler.join()
    own = resource.getrusage(resource.RUSAGE_SELF)
    own_cpu = (own.ru_utime - cpu_before.ru_utime) + (own.ru_stime - cpu_before.ru_stime)
    print(f"Spark {version}, master {args.master}, {args.partitions} partitions")
    print(f"fit on Spark (Parquet read included): {fitted:.1f} s wall")
    print(f"fit + artifact write + load back: {wall:.1f} s wall; load back {loaded:.2f} s")
    print(f"artifact: {size / 2**20:.1f} MiB, {len(recommender.movie_ids):,} movies")
    print(f"CPU: driver Python {own_cpu:.1f} s, JVM and workers {sum(sampler.cpu.values()):.1f} s")
    for kind, rss in sampler.peak.items():
        print(f"peak RSS {kind}: {rss / 2**30:.2f} GiB")
    print(f"peak RSS driver Python: {own.ru_maxrss / 2**20:.2f} GiB")
    print(f"load average before: {load[0]:.1f}, after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
