"""Print the schema in SDL: ``python -m graph.export_schema > schema.graphql`` (``make schema``)."""

from __future__ import annotations

from graph.config import GraphQLLimits
from graph.schema import build_schema


def schema_sdl() -> str:
    return build_schema(GraphQLLimits()).as_str() + "\n"


if __name__ == "__main__":
    print(schema_sdl(), end="")
