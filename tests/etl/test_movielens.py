"""The MovieLens and combined_movies.csv readers: parsing, fixes, and errors with file + line."""

from __future__ import annotations

from pathlib import Path

import pytest

from etl.combined import read_combined
from etl.errors import EtlError
from etl.metadata import Metadata
from etl.movielens import (
    FileReport,
    read_links,
    read_movies,
    read_ratings,
    read_tags,
    split_title,
)
from tests.etl.conftest import FILES, write_movielens


@pytest.mark.parametrize(
    ("raw", "title", "year"),
    [
        ("Toy Story (1995)", "Toy Story", 1995),
        ("American President, The (1995) ", "American President, The", 1995),
        ("Assembly (Ji jie hao) (2007)", "Assembly (Ji jie hao)", 2007),
        ("Death Note: Desu nôto (2006–2007)", "Death Note: Desu nôto", 2006),
        ("Babylon 5", "Babylon 5", None),
        ("1971 (2007)", "1971", 2007),
        ("(2007)", "(2007)", None),
    ],
)
def test_split_title(raw: str, title: str, year: int | None) -> None:
    assert split_title(raw) == (title, year)


def test_movies_keep_verbatim_title_and_genre_order(movielens_small: Path) -> None:
    movies, report = read_movies(movielens_small / "movies.csv")
    assert movies[2].title == "American President, The"
    assert movies[2].movielens_title == "American President, The (1995) "
    assert movies[1].genres == ("Adventure", "Animation", "Children")
    assert movies[3].genres == ()
    assert movies[4].year == 2006
    assert (report.read, report.loaded) == (4, 4)
    assert report.fixes["titles without a year (year NULL)"] == 1
    assert report.fixes["titles with surrounding spaces (trimmed in title)"] == 1


def test_links_prefix_imdb_and_null_missing_tmdb(movielens_small: Path) -> None:
    movies, _ = read_movies(movielens_small / "movies.csv")
    links, report = read_links(movielens_small / "links.csv", movies)
    assert links[1].imdb_id == "tt0114709"
    assert links[1].tmdb_id == 862
    assert links[3].tmdb_id is None
    assert report.fixes["empty tmdbId (NULL)"] == 1


def test_tags_drop_duplicates_and_blanks(movielens_small: Path) -> None:
    movies, _ = read_movies(movielens_small / "movies.csv")
    report = FileReport("tags.csv")
    chunks = read_tags(movielens_small / "tags.csv", movies, report)
    rows = [row for chunk in chunks for row in chunk]
    assert rows == [(2, 1, "pixar", 1445714994), (3, 3, "space", 1445715000)]
    assert report.read == 4
    assert report.fixes["duplicate (user, movie, tag) dropped"] == 1
    assert report.fixes["blank tags skipped"] == 1


def test_ratings_come_in_chunks(movielens_small: Path) -> None:
    movies, _ = read_movies(movielens_small / "movies.csv")
    report = FileReport("ratings.csv")
    chunks = list(read_ratings(movielens_small / "ratings.csv", movies, report, chunk_rows=2))
    assert [len(chunk) for chunk in chunks] == [2, 2, 1]
    assert chunks[0][1] == (1, 2, 0.5, 964981247)
    assert report.read == 5


def test_combined_fixes_are_counted(movielens_small: Path) -> None:
    movies, _ = read_movies(movielens_small / "movies.csv")
    metadata, report = read_combined(movielens_small / "combined_movies.csv", movies)
    assert metadata[1] == Metadata("Toy Story", 'Woody, a "cowboy"\nand Buzz.', "/toy.jpg", None)
    assert metadata[2] == Metadata(None, None, "/ap.jpg", None)
    assert metadata[4].overview is None
    assert (report.read, report.loaded) == (4, 3)
    assert report.fixes["duplicate rows dropped (movieId 2)"] == 1
    assert report.fixes["NA in overview (NULL)"] == 1
    assert report.fixes["NA in poster_path (NULL)"] == 1
    assert report.fixes["blank overview (NULL)"] == 1
    assert report.fixes["backdrop_path discarded (the collection's picture, not the movie's)"] == 1


def _read_everything(directory: Path) -> None:
    movies, _ = read_movies(directory / "movies.csv")
    read_links(directory / "links.csv", movies)
    for reader in (read_ratings, read_tags):
        for _ in reader(directory / f"{reader.__name__[5:]}.csv", movies, FileReport("x")):
            pass


def _ratings(*rows: str) -> list[str]:
    return [FILES["ratings.csv"][0], *rows]


@pytest.mark.parametrize(
    ("replace", "file", "line", "problem"),
    [
        ({"ratings": _ratings("1,1,4.0,1", "1,2,4.2,2")}, "ratings.csv", 3, "not one of 0.5"),
        ({"ratings": _ratings("1,1,5.5,1")}, "ratings.csv", 2, "not one of 0.5"),
        ({"ratings": _ratings("1,1,0,1")}, "ratings.csv", 2, "not one of 0.5"),
        ({"ratings": _ratings("1,1,nan,1")}, "ratings.csv", 2, "not one of 0.5"),
        ({"ratings": _ratings("1,1,four,1")}, "ratings.csv", 2, "is not a number"),
        ({"ratings": _ratings("1,99,4.0,1")}, "ratings.csv", 2, "movieId 99 is not in movies"),
        ({"ratings": _ratings("x,1,4.0,1")}, "ratings.csv", 2, "userId 'x' is not an integer"),
        ({"ratings": _ratings("1,1,4.0,-5")}, "ratings.csv", 2, "timestamp -5 is below 0"),
        ({"ratings": _ratings("1,1,4.0")}, "ratings.csv", 2, "expected 4 fields"),
        (
            {"ratings": _ratings("1,1,4.0,1", "2,2,4.0,1", "1,1,3.0,2")},
            "ratings.csv",
            4,
            "userId 1 rated movieId 1 twice (first on line 2)",
        ),
        ({"ratings": ["user,movie,rating,time", "1,1,4.0,1"]}, "ratings.csv", 1, "header"),
        (
            {"movies": [*FILES["movies.csv"], "1,Again (2000),Drama"]},
            "movies.csv",
            6,
            "duplicate movieId 1 (first on line 2)",
        ),
        (
            {"movies": [*FILES["movies.csv"], "5,Bad (2000),Drama||Comedy"]},
            "movies.csv",
            6,
            "malformed genres",
        ),
        ({"links": [*FILES["links.csv"], "77,0000001,1"]}, "links.csv", 6, "movieId 77"),
        (
            {"links": [*FILES["links.csv"], "2,0000001,1"]},
            "links.csv",
            6,
            "duplicate movieId 2 (first on line 3)",
        ),
        (
            {"tags": ["userId,movieId,tag,timestamp", '1,1,"never closed,1']},
            "tags.csv",
            2,
            "malformed CSV: unexpected end of data",
        ),
    ],
)
def test_bad_rows_name_file_line_and_problem(
    tmp_path: Path, replace: dict[str, list[str]], file: str, line: int, problem: str
) -> None:
    directory = write_movielens(tmp_path, **replace)
    with pytest.raises(EtlError) as caught:
        _read_everything(directory)
    error = caught.value
    assert error.path == directory / file
    assert error.line == line
    assert problem in error.problem
    assert str(error).startswith(f"{directory / file}:{line}: ")


def test_line_numbers_count_quoted_newlines(tmp_path: Path) -> None:
    lines = [
        "movieId,title,genres",
        '1,"A title\r\nover two lines (1999)",Drama',
        '2,"And\r\nthree\r\nlines (2000)",Drama',
        "x,Broken (2001),Drama",
    ]
    directory = write_movielens(tmp_path, movies=lines)
    with pytest.raises(EtlError) as caught:
        read_movies(directory / "movies.csv")
    assert caught.value.line == 7
    assert "movieId 'x' is not an integer" in caught.value.problem


def test_combined_conflicting_duplicate_is_an_error(movielens_small: Path) -> None:
    path = movielens_small / "combined_movies.csv"
    path.write_text(path.read_text() + "2,x,Comedy,tt0112346,9087,Other,NA,/ap.jpg,NA\n")
    movies, _ = read_movies(movielens_small / "movies.csv")
    with pytest.raises(EtlError, match="movieId 2 appears twice with different values") as caught:
        read_combined(path, movies)
    assert caught.value.line == 7  # the Toy Story row spans lines 2-3


def test_not_utf8_is_an_error(movielens_small: Path) -> None:
    latin1 = "movieId,title,genres\r\n1,Café (1999),Drama\r\n".encode("latin-1")
    (movielens_small / "movies.csv").write_bytes(latin1)
    with pytest.raises(EtlError, match="not UTF-8"):
        read_movies(movielens_small / "movies.csv")


def test_missing_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(EtlError, match="file not found"):
        read_movies(tmp_path / "movies.csv")
