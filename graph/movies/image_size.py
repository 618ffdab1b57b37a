"""TMDB image sizes and the URL of a poster or backdrop on TMDB's image host."""

from __future__ import annotations

from enum import Enum

import strawberry

TMDB_IMAGE_BASE = "https://image.tmdb.org/t/p/"


@strawberry.enum(description="Image widths TMDB's image host serves.")
class ImageSize(Enum):
    W92 = "w92"
    W185 = "w185"
    W342 = "w342"
    W500 = "w500"
    W780 = "w780"
    ORIGINAL = "original"


def image_url(path: str | None, size: ImageSize) -> str | None:
    return f"{TMDB_IMAGE_BASE}{size.value}{path}" if path else None
