"""Progress bars with an ETA for the long phases of training, shown on a terminal only.

``movierec train`` at ML-25M size runs for minutes in each phase (the ranker's SVD, ALS, the
neighbour similarities); a terminal user sees each phase's progress and time left, while logs,
pipes and tests (stderr not a TTY) get nothing.
"""

from __future__ import annotations

import sys
from typing import Any

from tqdm import tqdm


def progress(total: int, desc: str, unit: str) -> tqdm[Any]:
    """A bar over ``total`` units of work, disabled unless stderr is a terminal; counts in the
    thousands and up are shown scaled (1.2M rows), small ones as they are (3/6 products)."""
    return tqdm(
        total=total,
        desc=desc,
        unit=unit,
        unit_scale=total >= 10_000,
        disable=not sys.stderr.isatty(),
    )
