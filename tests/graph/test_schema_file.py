"""The checked-in schema.graphql is the contract the web app codes against."""

from __future__ import annotations

from graph.export_schema import schema_sdl
from tests.conftest import PROJECT_ROOT


def test_checked_in_schema_matches_the_code() -> None:
    checked_in = (PROJECT_ROOT / "schema.graphql").read_text()
    assert checked_in == schema_sdl(), "schema.graphql is stale: run `make schema`"
