"""A tiny MovieLens folder with the real files' quirks, and a full dump of a store to compare."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from data.schema import metadata

CRLF = "\r\n"
COMBINED_HEADER = (
    "movieId,title,genres,imdbId,tmdbId,original_title,overview,poster_path,backdrop_path"
)

# CRLF line ends like the real MovieLens files; a title with a trailing space, one without a
# year, one with a year range, one without genres; a quoted title with a comma.
FILES = {
    "movies.csv": [
        "movieId,title,genres",
        "1,Toy Story (1995),Adventure|Animation|Children",
        '2,"American President, The (1995) ",Comedy|Drama|Romance',
        "3,Babylon 5,(no genres listed)",
        "4,Death Note: Desu nôto (2006–2007),Mystery",
    ],
    "links.csv": [
        "movieId,imdbId,tmdbId",
        "1,0114709,862",
        "2,0112346,9087",
        "3,0105946,",
        "4,0877057,13916",
    ],
    "ratings.csv": [
        "userId,movieId,rating,timestamp",
        "1,1,4.0,964982703",
        "1,2,0.5,964981247",
        "2,1,5.0,964982224",
        "2,4,3.5,964983815",
        "3,3,2.5,964983000",
    ],
    "tags.csv": [
        "userId,movieId,tag,timestamp",
        "2,1,pixar,1445714994",
        "2,1,pixar,1445714999",
        "2,4, ,1445714996",
        "3,3,space,1445715000",
    ],
}
# LF line ends like the real file; NA markers, a blank overview, a quoted overview with a comma,
# a quote and a newline, a collection backdrop, and an exact duplicate row.
COMBINED = "\n".join(
    [
        COMBINED_HEADER,
        '1,Toy Story (1995),Adventure,tt0114709,862,Toy Story,"Woody, a ""cowboy""\nand Buzz.",'
        "/toy.jpg,/collection.jpg",
        "2,x,Comedy,tt0112346,9087,NA,NA,/ap.jpg,NA",
        "2,x,Comedy,tt0112346,9087,NA,NA,/ap.jpg,NA",
        "4,x,Mystery,tt0877057,13916,デスノート,,NA,NA",
        "",
    ]
)


def write_movielens(directory: Path, *, combined: bool = True, **replace: list[str]) -> Path:
    """Write the small data set into ``directory``; ``replace`` swaps a file's lines
    (keyword = file name without ``.csv``)."""
    directory.mkdir(parents=True, exist_ok=True)
    for name, lines in FILES.items():
        content = replace.get(name.removesuffix(".csv"), lines)
        (directory / name).write_bytes((CRLF.join(content) + CRLF).encode())
    if combined:
        (directory / "combined_movies.csv").write_bytes(COMBINED.encode())
    return directory


@pytest.fixture
def movielens_small(tmp_path: Path) -> Path:
    return write_movielens(tmp_path / "movielens")


def dump(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, sorted: two equal dumps mean two identical stores."""
    with engine.connect() as conn:
        return {
            table.name: sorted((tuple(row) for row in conn.execute(select(table))), key=repr)
            for table in metadata.sorted_tables
        }
