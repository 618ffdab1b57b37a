"""A movie of the catalog, with the signed-in viewer's view of it."""

from __future__ import annotations

from dataclasses import fields

import strawberry

from data.movies import MovieRow
from data.titles import readable_title
from graph.context import Info
from graph.fields import field
from graph.movies.image_size import ImageSize, image_url
from graph.movies.rating_stats import RatingStats
from graph.recommendations.reason import Reason


@strawberry.type(description="A movie; title is without the year, which is a field of its own.")
class Movie:
    id: int
    title: str = strawberry.field(
        description=(
            "The title as MovieLens files it, without the year: the article behind "
            '("Godfather, The") and alternatives in parentheses ("Seven (a.k.a. Se7en)"). '
            "Unchanged for existing clients; show displayTitle to people."
        )
    )
    movielens_title: str = strawberry.field(
        description='The MovieLens title byte for byte, year included: "Godfather, The (1972)".'
    )
    year: int | None
    genres: list[str]
    original_title: str | None
    overview: str | None
    poster_path: str | None
    backdrop_path: str | None
    imdb_id: str | None
    tmdb_id: int | None

    @classmethod
    def from_row(cls, row: MovieRow) -> Movie:
        """Every plain field is the row's field of the same name: exposing a stored column is
        its one annotation above."""
        values = {name: getattr(row, name) for name in _STORED}
        return cls(**values | {"genres": list(row.genres)})

    @field(
        description=(
            'The title as people read it: the article in front ("The Godfather"), without '
            'the alternatives ("Seven"), which are in alsoKnownAs, and without the year.'
        )
    )
    def display_title(self) -> str:
        return readable_title(self.title).display

    @field(
        description=(
            "Other names of the movie from MovieLens' parentheses, a.k.a. and original-language "
            'titles alike, each with its article in front ("Se7en", "La Cité des enfants '
            'perdus"); empty when there are none.'
        )
    )
    def also_known_as(self) -> list[str]:
        return list(readable_title(self.title).also_known_as)

    @strawberry.field
    def poster_url(self, size: ImageSize = ImageSize.W342) -> str | None:
        return image_url(self.poster_path, size)

    @strawberry.field
    def backdrop_url(self, size: ImageSize = ImageSize.W780) -> str | None:
        return image_url(self.backdrop_path, size)

    @strawberry.field
    async def rating_stats(self, info: Info) -> RatingStats:
        stats = await info.context.loaders.rating_stats.load(self.id)
        return RatingStats(average=stats.average, count=stats.count)

    @field(description="The viewer's own rating; null when not rated or signed out.")
    async def viewer_rating(self, info: Info) -> float | None:
        return await info.context.loaders.viewer_rating.load(self.id)

    @field(description="Whether the viewer saved it to watch later; null signed out.")
    async def in_watchlist(self, info: Info) -> bool | None:
        return await info.context.loaders.saved.load(self.id)

    @field(description="The model's predicted rating for the viewer; null signed out.")
    async def predicted_rating(self, info: Info) -> float | None:
        return await info.context.loaders.predicted_rating.load(self.id)

    @field(
        description=(
            "Why the model ranks this movie for the viewer: up to three of the viewer's rated "
            "movies that contribute most to its ranking score, strongest first (with "
            "predictedRating, what a recommendation shows). Empty when no rating argues for it "
            "(a viewer without ratings gets the most-rated list); null signed out. Batched: "
            "the reasons of a whole list cost one model call."
        )
    )
    async def because(self, info: Info) -> list[Reason] | None:
        reasons = await info.context.loaders.reasons.load(self.id)
        if reasons is None:
            return None
        return [Reason(movie_id=r.movie_id, rating=r.rating, share=r.share) for r in reasons]

    @field(
        description=(
            "Movies like this one: item neighbours by shrunk Pearson similarity of ratings, "
            "filled by item-factor cosine where a movie has few. Batched: the similar movies "
            "of a whole list cost one model call."
        )
    )
    async def similar(self, info: Info, first: int = 10) -> list[Movie]:
        ids = await info.context.loaders.similar.load((self.id, first))
        return await movies_by_ids(info, ids)


# Read once: ``fields()`` walks the class's fields, ten times per list of ten movies otherwise.
_STORED = tuple(field.name for field in fields(Movie) if field.init)


async def movies_by_ids(info: Info, ids: list[int]) -> list[Movie]:
    """Movies in the order of ``ids`` through the request's loader; unknown ids are skipped."""
    rows = await info.context.loaders.movie.load_many(ids)
    return [Movie.from_row(row) for row in rows if row is not None]
