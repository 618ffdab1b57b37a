"""Strawberry types, one per module; Query and Mutation are assembled in ``graph.schema``."""
