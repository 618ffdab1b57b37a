"""What ``movierec train`` spends reading every rating out of the store (``ratings_frame``).

    MOVIEREC_DATA_DIR=<store> .venv/bin/python bench/ratings_read.py [--database URL]

Prints the ratings read, wall and CPU seconds, the process's peak RSS and the load average. The
figures go into the README's "Scale" section, where the commit before the chunked read is
measured the same way: this script run by that checkout's interpreter (its ``data`` package).
"""

from __future__ import annotations

import argparse
import os
import resource
import time

from data.db import open_store
from data.ratings import ratings_frame
from movierec.settings import Settings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", help="the store's URL (default: the settings')")
    args = parser.parse_args()
    url = args.database or Settings().resolved_database_url
    load = os.getloadavg()[0]
    engine = open_store(url)
    try:
        started, cpu = time.perf_counter(), time.process_time()
        with engine.connect() as conn:
            frame = ratings_frame(conn)
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    finally:
        engine.dispose()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    print(
        f"{len(frame):,} ratings in {wall:.1f} s wall, {cpu:.1f} s CPU; peak RSS {peak:.2f} GB; "
        f"load average {load:.1f} at start, {os.getloadavg()[0]:.1f} at end"
    )


if __name__ == "__main__":
    main()
