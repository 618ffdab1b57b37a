"""The latency summary the recommender benchmarks share, so their figures are comparable."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import TypeVar

import numpy as np

T = TypeVar("T")


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
