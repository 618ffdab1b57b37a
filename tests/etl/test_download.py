"""``movierec data download`` against a local server serving a zip built by the test."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from etl.download import MARKER, download
from etl.errors import EtlError
from tests.etl.conftest import GOOD, FakeGroupLens, build_zip


def test_downloads_verifies_and_replaces_its_own_folder(
    grouplens: FakeGroupLens, tmp_path: Path
) -> None:
    archive = build_zip(GOOD)
    grouplens.publish("ml-test", archive)
    dest = tmp_path / "movielens"
    assert download("ml-test", dest, base_url=grouplens.url) == hashlib.md5(archive).hexdigest()
    (dest / "stale.csv").write_text("old")
    md5 = download("ml-test", dest, base_url=grouplens.url)
    assert md5 == hashlib.md5(archive).hexdigest()
    names = sorted(path.name for path in dest.iterdir())
    assert names == [MARKER, "README.txt", "movies.csv", "ratings.csv"]
    assert (dest / "ratings.csv").read_bytes() == GOOD["ml-test/ratings.csv"]
    assert json.loads((dest / MARKER).read_text())["md5"] == md5
    assert sorted(path.name for path in tmp_path.iterdir()) == ["movielens"]


def test_a_folder_it_did_not_write_is_never_replaced(
    grouplens: FakeGroupLens, tmp_path: Path
) -> None:
    grouplens.publish("ml-test", build_zip(GOOD))
    dest = tmp_path / "movielens"
    dest.mkdir()
    (dest / "ratings.csv").write_text("someone's only copy")
    with pytest.raises(EtlError, match="refusing to replace"):
        download("ml-test", dest, base_url=grouplens.url)
    assert [path.name for path in dest.iterdir()] == ["ratings.csv"]
    assert (dest / "ratings.csv").read_text() == "someone's only copy"
    assert grouplens.requests == []


def test_checksum_mismatch_leaves_the_folder_alone(
    grouplens: FakeGroupLens, tmp_path: Path
) -> None:
    dest = tmp_path / "movielens"
    grouplens.publish("ml-test", build_zip(GOOD))
    download("ml-test", dest, base_url=grouplens.url)
    before = {path.name: path.read_bytes() for path in dest.iterdir()}
    grouplens.publish("ml-test", build_zip({**GOOD, "ml-test/ratings.csv": b"new"}), md5="0" * 32)
    with pytest.raises(EtlError, match="checksum mismatch"):
        download("ml-test", dest, base_url=grouplens.url)
    assert {path.name: path.read_bytes() for path in dest.iterdir()} == before
    assert sorted(path.name for path in tmp_path.iterdir()) == ["movielens"]


@pytest.mark.parametrize(
    ("members", "links", "problem"),
    [
        ({**GOOD, "ml-test/../../evil.csv": b"x"}, (), "unsafe path"),
        ({**GOOD, "/etc/evil.csv": b"x"}, (), "unsafe path"),
        ({**GOOD, ".": b"x"}, (), "unsafe path"),
        (GOOD, ("ml-test/link.csv",), "link in archive refused"),
        ({"ml-test/movies.csv": b"x"}, (), "has no ratings.csv"),
    ],
    ids=["parent traversal", "absolute path", "no name", "symlink", "not MovieLens"],
)
def test_unsafe_or_foreign_archives_are_refused(
    grouplens: FakeGroupLens,
    tmp_path: Path,
    members: dict[str, bytes],
    links: tuple[str, ...],
    problem: str,
) -> None:
    grouplens.publish("ml-test", build_zip(members, links=links))
    dest = tmp_path / "area" / "movielens"
    with pytest.raises(EtlError, match=problem):
        download("ml-test", dest, base_url=grouplens.url)
    assert list((tmp_path / "area").iterdir()) == []
    assert not (tmp_path / "evil.csv").exists()


def test_missing_published_checksum_is_an_error(grouplens: FakeGroupLens, tmp_path: Path) -> None:
    grouplens.files["/datasets/movielens/ml-test.zip"] = build_zip(GOOD)
    with pytest.raises(EtlError, match=r"cannot verify ml-test: .*\.md5 answered HTTP 404"):
        download("ml-test", tmp_path / "movielens", base_url=grouplens.url)


def test_published_checksum_must_match_the_pinned_one(
    grouplens: FakeGroupLens, tmp_path: Path
) -> None:
    grouplens.publish("ml-25m", build_zip({"ml-25m/ratings.csv": b""}))
    with pytest.raises(EtlError, match="known to be 6b51fb2759a8657d3bfcbfc42b592ada"):
        download("ml-25m", tmp_path / "movielens", base_url=grouplens.url)


@pytest.mark.parametrize("name", ["../etc", "ml-latest-small.zip?x", "other"])
def test_bad_dataset_names_are_refused(tmp_path: Path, name: str) -> None:
    with pytest.raises(EtlError, match="not a MovieLens data set name"):
        download(name, tmp_path, base_url="http://127.0.0.1:9")
