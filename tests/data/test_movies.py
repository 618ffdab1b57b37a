"""A movie column is declared once, in the table; the row type follows it by name."""

from __future__ import annotations

from dataclasses import fields

from sqlalchemy import Engine, insert

from data.movies import MovieRow, movies_by_ids
from data.schema import movies


def test_movie_row_has_a_field_per_column_and_the_genres() -> None:
    """Storing a column without its field (or the reverse) fails here, not in a request."""
    assert {field.name for field in fields(MovieRow)} == {*movies.columns.keys(), "genres"}


def test_movie_rows_are_built_from_every_column(engine: Engine) -> None:
    values = {column.name: f"{column.name}!" for column in movies.columns}
    values |= {"id": 7, "year": 1999, "tmdb_id": 603}
    with engine.begin() as conn:
        conn.execute(insert(movies).values(values))
        row = movies_by_ids(conn, [7])[7]
    assert {name: getattr(row, name) for name in values} == values
    assert row.genres == ()
