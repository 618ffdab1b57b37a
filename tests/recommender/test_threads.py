"""The threaded sparse-times-dense product equals SciPy's, however the entries fall in rows."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import sparse

from recommender.models import threads


@pytest.mark.parametrize("workers", [1, 2, 3, 8])
@pytest.mark.parametrize(
    "shape_and_rows",
    [
        ((50, 30), None),  # entries spread over the rows
        ((50, 30), [7]),  # every entry in one row: the other ranges are empty
        ((3, 30), None),  # fewer rows than workers
        ((0, 30), []),  # no rows at all
    ],
)
def test_the_product_equals_scipys(
    monkeypatch: pytest.MonkeyPatch,
    workers: int,
    shape_and_rows: tuple[tuple[int, int], list[int] | None],
) -> None:
    monkeypatch.setattr(threads.os, "cpu_count", lambda: workers)
    (n_rows, n_cols), rows = shape_and_rows
    rng = np.random.default_rng(workers)
    matrix = sparse.random(n_rows, n_cols, density=0.2, format="csr", random_state=1)
    if rows is not None:
        dense_rows = np.zeros((n_rows, n_cols))
        for row in rows:
            dense_rows[row] = rng.standard_normal(n_cols)
        matrix = sparse.csr_matrix(dense_rows)
    right = rng.standard_normal((n_cols, 5))
    got = threads.product(matrix, right)
    assert got.shape == (n_rows, 5)
    assert got.flags.c_contiguous
    # Each row is summed as SciPy sums it, so the result is the same to the last bit.
    np.testing.assert_array_equal(got, matrix @ right)
