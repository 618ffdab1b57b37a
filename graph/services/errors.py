"""Errors the services raise for input a client can fix; each front end words them its own way."""

from __future__ import annotations


class InvalidInputError(ValueError):
    """The request is well-formed but asks for something impossible (unknown genre, first=500)."""
