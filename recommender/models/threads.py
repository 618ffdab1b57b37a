"""Sparse-times-dense products on every core.

SciPy multiplies a sparse matrix by a dense one in a single thread (releasing the GIL while it
does), so at ML-25M size the randomized SVD's products, each 25 M ratings times a few hundred
columns, used one of the machine's cores. Cut into row ranges of about equal numbers of
stored entries, one per core, the same product runs in threads: the CPU time is the same, the
wall time divided by the cores that are free.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from scipy import sparse


def product(matrix: sparse.csr_matrix, dense: np.ndarray) -> np.ndarray:
    """``matrix @ dense`` as a C-ordered float64 array, computed a row range per core."""
    workers = min(os.cpu_count() or 1, max(1, matrix.shape[0]))
    cuts = np.searchsorted(matrix.indptr, np.linspace(0, matrix.nnz, workers + 1))
    cuts = np.clip(cuts, 0, matrix.shape[0])
    cuts[0], cuts[-1] = 0, matrix.shape[0]
    out = np.empty((matrix.shape[0], dense.shape[1]), dtype=np.result_type(matrix, dense))

    def part(index: int) -> None:
        start, stop = int(cuts[index]), int(cuts[index + 1])
        if start < stop:
            out[start:stop] = matrix[start:stop] @ dense

    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(part, range(workers)))
    return out
