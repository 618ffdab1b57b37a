"""ratings.csv checked block by block: the vectorised check returns exactly what the row-by-row
reader returns, whatever the file looks like, and a bad row anywhere in a file of many blocks
is still refused with its file, line and problem. Blocks are made tiny so a small file has
dozens of them."""

from __future__ import annotations

import csv
import random
from pathlib import Path
from typing import Any

import pytest

from etl import movielens
from etl.errors import EtlError
from etl.movielens import FileReport, Movie, RatingRow, read_ratings

HEADER = "userId,movieId,rating,timestamp"
ROWS = 3_000
MOVIES = {n: Movie(n, f"M{n}", f"M{n} (2000)", 2000, ()) for n in range(1, 301)}


@pytest.fixture(autouse=True)
def small_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(movielens, "BLOCK_BYTES", 512)


def _lines(rows: int = ROWS) -> list[str]:
    """Unique (user, movie) pairs in a shuffled order, half stars, times."""
    rng = random.Random(7)
    pairs = rng.sample([(u, m) for u in range(1, 41) for m in range(1, 301)], rows)
    return [f"{u},{m},{rng.randint(1, 10) / 2},{rng.randint(0, 2**40)}" for u, m in pairs]


def _write(path: Path, lines: list[str], *, end: str = "\n", last_end: bool = True) -> Path:
    path.write_bytes((end.join([HEADER, *lines]) + (end if last_end else "")).encode())
    return path


def _by_csv(path: Path) -> list[RatingRow]:
    """What the file holds, read by the csv module alone, sorted by (user, movie)."""
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))[1:]
    return sorted((int(u), int(m), float(r), int(t)) for u, m, r, t in rows)


def _read(path: Path) -> tuple[list[RatingRow], FileReport]:
    report = FileReport(path.name)
    rows = [row for chunk in read_ratings(path, MOVIES, report, chunk_rows=700) for row in chunk]
    return rows, report


@pytest.mark.parametrize(
    ("end", "last_end", "change"),
    [
        ("\n", True, None),
        ("\r\n", True, None),
        ("\n", False, None),
        # A quoted field is good CSV that the fast check leaves to the row-by-row reader.
        ("\n", True, (1_700, '1,"{movie}",4.0,5')),
        # So are spellings other than MovieLens' own that Python reads as the same numbers.
        ("\r\n", False, (2_500, "1,+{movie},4.0,5")),
        ("\n", True, (900, "1,0{movie},4,05")),
        ("\n", True, (1_200, "1,{movie},4.50,5")),
    ],
    ids=[
        "LF",
        "CRLF",
        "no final line end",
        "quoted field mid-file",
        "plus sign mid-file",
        "leading zeros, whole rating",
        "two decimals",
    ],
)
def test_blocks_read_what_the_csv_module_reads(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    end: str,
    last_end: bool,
    change: tuple[int, str] | None,
) -> None:
    resumed: list[tuple[int, int] | None] = []
    slow_part = movielens._slow_part

    def spy(*args: Any, resume: tuple[int, int] | None) -> Any:
        resumed.append(resume)
        return slow_part(*args, resume=resume)

    monkeypatch.setattr(movielens, "_slow_part", spy)
    lines = _lines()
    if change is not None:
        taken = {int(line.split(",")[1]) for line in lines if line.startswith("1,")}
        movie = min(set(MOVIES) - taken)
        lines[change[0]] = change[1].format(movie=movie)
    path = _write(tmp_path / "ratings.csv", lines, end=end, last_end=last_end)
    rows, report = _read(path)
    assert rows == _by_csv(path)
    assert report.read == ROWS
    if change is None:
        assert resumed == []  # plain files never need the row-by-row reader
    elif '"' in change[1]:
        assert len(resumed) == 1
        resume = resumed[0]
        assert resume is not None
        assert 2 < resume[1] <= change[0] + 2  # from the start of the block with the quote


@pytest.mark.parametrize(
    ("bad", "problem"),
    [
        ("7,1,4.2,5", "rating '4.2' is not one of 0.5 to 5.0"),
        ("7,1,nan,5", "rating 'nan' is not one of"),
        ("7,999,4.0,5", "movieId 999 is not in movies.csv"),
        ("x,1,4.0,5", "userId 'x' is not an integer"),
        # pandas reads these as integers; Python's int, the reference, does not.
        ("7.0,1,4.0,5", "userId '7.0' is not an integer"),
        ("7,1e0,4.0,5", "movieId '1e0' is not an integer"),
        ("7,1,4.0,5.", "timestamp '5.' is not an integer"),
        ("0,1,4.0,5", "userId 0 is below 1"),
        ("2147483648,1,4.0,5", "userId 2147483648 is above 2147483647"),
        ("7,1,4.0,-1", "timestamp -1 is below 0"),
        ("7,1,4.0", "expected 4 fields"),
        ("7,1,4.0,5,", "expected 4 fields"),
        ("", "expected 4 fields (userId,movieId,rating,timestamp), found 0"),
        ('7,1,"4.0,5', "malformed CSV"),
    ],
)
def test_a_bad_row_deep_in_the_file_names_its_line(tmp_path: Path, bad: str, problem: str) -> None:
    lines = _lines()
    lines[2_000] = bad  # line 2,002 of the file: the header is line 1
    path = _write(tmp_path / "ratings.csv", lines)
    with pytest.raises(EtlError) as caught:
        _read(path)
    assert (caught.value.path, caught.value.line) == (path, 2_002)
    assert problem in caught.value.problem


def test_a_pair_rated_twice_in_distant_blocks_names_both_lines(tmp_path: Path) -> None:
    lines = _lines()
    user, movie = lines[100].split(",")[:2]
    lines[2_900] = f"{user},{movie},1.0,1"
    path = _write(tmp_path / "ratings.csv", lines)
    with pytest.raises(EtlError) as caught:
        _read(path)
    assert caught.value.line == 2_902
    assert caught.value.problem == f"userId {user} rated movieId {movie} twice (first on line 102)"


def test_not_utf8_deep_in_the_file_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path / "ratings.csv", _lines())
    data = path.read_bytes()
    cut = data.index(b"\n", len(data) // 2) + 1
    path.write_bytes(data[:cut] + b"\xff" + data[cut:])
    with pytest.raises(EtlError, match="not UTF-8"):
        _read(path)


@pytest.mark.parametrize("content", [HEADER, HEADER + "\r\n"], ids=["no line end", "line end"])
def test_a_file_with_no_ratings_reads_as_none(tmp_path: Path, content: str) -> None:
    path = tmp_path / "ratings.csv"
    path.write_text(content)
    assert _read(path) == ([], FileReport("ratings.csv"))


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(EtlError, match="file not found"):
        _read(tmp_path / "ratings.csv")
