"""bench/synth_movielens.py writes a folder the ETL accepts, with the shape it promises."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd

from etl.movielens import FileReport, read_movies, read_ratings

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def synthesize(out: Path, *extra: str) -> None:
    command = [sys.executable, str(PROJECT_ROOT / "bench" / "synth_movielens.py"), "--out"]
    subprocess.run([*command, str(out), *extra], check=True, capture_output=True)


def test_a_small_synthetic_folder_has_the_promised_shape(tmp_path: Path) -> None:
    synthesize(
        tmp_path / "a",
        "--users",
        "300",
        "--movies",
        "500",
        "--ratings",
        "20000",
        "--max-user-ratings",
        "450",
    )
    ratings = pd.read_csv(tmp_path / "a" / "ratings.csv")
    per_user = ratings.groupby("userId").size()
    assert len(per_user) == 300
    assert per_user.min() >= 20
    assert per_user.max() == 450
    assert not ratings.duplicated(["userId", "movieId"]).any()
    assert set(ratings["rating"] * 2) <= set(range(1, 11))
    movies = pd.read_csv(tmp_path / "a" / "movies.csv")
    assert len(movies) == 500
    assert ratings["movieId"].isin(movies["movieId"]).all()
    # Per user, ratings come in time order, as MovieLens exports them.
    assert (ratings.groupby("userId")["timestamp"].diff().dropna() >= 0).all()


def test_the_etl_reader_accepts_it_and_a_seed_reproduces_it(tmp_path: Path) -> None:
    for name in ("a", "b"):
        synthesize(
            tmp_path / name, "--users", "50", "--movies", "80", "--ratings", "2000", "--seed", "7"
        )
    assert (tmp_path / "a" / "ratings.csv").read_bytes() == (
        tmp_path / "b" / "ratings.csv"
    ).read_bytes()
    movies, _ = read_movies(tmp_path / "a" / "movies.csv")
    path = tmp_path / "a" / "ratings.csv"
    rows = sum(len(chunk) for chunk in read_ratings(path, movies, FileReport(path.name)))
    assert rows == len(pd.read_csv(tmp_path / "a" / "ratings.csv"))
