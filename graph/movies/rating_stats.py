"""Average and number of ratings of a movie."""

from __future__ import annotations

import strawberry


@strawberry.type
class RatingStats:
    average: float | None
    count: int
