"""The latency summary the recommender benchmarks share, so their figures are comparable."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Iterable, Sequence
from typing import TypeVar

import numpy as np

T = TypeVar("T")


def median_spread(values: Sequence[float], digits: int = 2) -> str:
    """``median (lowest-highest)``: a figure measured in several rounds, as the benches quote
    it (the rounds' spread beside the median, on machines too noisy for one number)."""
    low, high = min(values), max(values)
    return f"{statistics.median(values):.{digits}f} ({low:.{digits}f}-{high:.{digits}f})"


def wall_ms(call: Callable[[T], object], inputs: Iterable[T]) -> np.ndarray:
    """Wall time of ``call`` for each of ``inputs``, in milliseconds, one timing per input."""
    seconds = []
    for value in inputs:
        started = time.perf_counter()
        call(value)
        seconds.append(time.perf_counter() - started)
    return np.array(seconds) * 1e3


def timed(call: Callable[[T], object], inputs: Iterable[T]) -> str:
    """p50 and p99 wall time of ``call`` over ``inputs``, one timing per input."""
    ms = wall_ms(call, inputs)
    return f"p50 {np.percentile(ms, 50):.3f} ms, p99 {np.percentile(ms, 99):.3f} ms"
