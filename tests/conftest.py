"""Fixtures shared by every test package: a fresh store, and the real MovieLens folder."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from data.db import open_store

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def real_movielens_dir() -> Path | None:
    """The real MovieLens folder: ``MOVIEREC_MOVIELENS_DIR`` or ``../shared/movielens``."""
    configured = os.environ.get("MOVIEREC_MOVIELENS_DIR")
    candidate = Path(configured) if configured else PROJECT_ROOT.parent / "shared" / "movielens"
    return candidate if (candidate / "ratings.csv").is_file() else None


@pytest.fixture(scope="session")
def movielens_dir() -> Path:
    found = real_movielens_dir()
    if found is None:
        pytest.skip("real MovieLens data not found (set MOVIEREC_MOVIELENS_DIR)")
    return found


@pytest.fixture
def store_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'store.sqlite3'}"


@pytest.fixture
def engine(store_url: str) -> Iterator[Engine]:
    """An empty store at the latest schema version, in a temporary folder."""
    engine = open_store(store_url, create=True)
    yield engine
    engine.dispose()
