"""Fixtures shared by the store tests."""

from __future__ import annotations

import pytest


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, store_url: str) -> str:
    """The store's URL on each database: SQLite always, PostgreSQL when a server is given."""
    if request.param == "sqlite":
        return store_url
    found: str = request.getfixturevalue("postgres_url")
    return found
