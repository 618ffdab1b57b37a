"""Why the model recommends a movie: the viewer's rated movies behind its ranking score."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import strawberry

from graph.context import Info
from graph.fields import field

if TYPE_CHECKING:
    from graph.movies.movie import Movie


@strawberry.type(
    description=(
        "One of the viewer's rated movies that makes the model rank a movie higher, for "
        '"Because you rated Toy Story and Aladdin".'
    )
)
class Reason:
    movie_id: strawberry.Private[int]
    rating: float = strawberry.field(description="The viewer's rating of that movie.")
    share: float = strawberry.field(
        description=(
            "Its contribution as a part of the recommended movie's ranking score, above 0. "
            "Every rated movie contributes, for or against, and all contributions sum to the "
            "score, so a share is a true part of it."
        )
    )

    @field(description="The rated movie.")
    async def movie(
        self, info: Info
    ) -> Annotated[Movie, strawberry.lazy("graph.movies.movie")] | None:
        # Imported here: movie.py imports this module for ``Movie.because``.
        from graph.movies.movie import Movie

        row = await info.context.loaders.movie.load(self.movie_id)
        return Movie.from_row(row) if row else None
