"""``movierec data download`` against a local server serving a zip built by the test."""

from __future__ import annotations

import hashlib
import io
import json
import stat
import zipfile
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from etl.commands import run_download
from etl.download import MARKER, download
from etl.errors import EtlError
from movierec.settings import Settings
from tests.etl.conftest import serving


class FakeGroupLens:
    """Serves ``files`` (URL path → bytes); anything else is a 404. ``requests`` lists paths."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.requests: list[str] = []
        files, requests = self.files, self.requests

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                requests.append(self.path)
                body = files.get(self.path)
                self.send_response(404 if body is None else 200)
                self.send_header("Content-Length", str(len(body or b"")))
                self.end_headers()
                self.wfile.write(body or b"")

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/datasets/movielens"

    def publish(self, dataset: str, archive: bytes, md5: str | None = None) -> None:
        digest = md5 or hashlib.md5(archive).hexdigest()
        self.files[f"/datasets/movielens/{dataset}.zip"] = archive
        self.files[f"/datasets/movielens/{dataset}.zip.md5"] = (
            f"MD5 ({dataset}.zip) = {digest}\n".encode()
        )


@pytest.fixture
def grouplens() -> Iterator[FakeGroupLens]:
    fake = FakeGroupLens()
    with serving(fake.server):
        yield fake


def build_zip(members: dict[str, bytes], *, links: tuple[str, ...] = ()) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
        for name in links:
            info = zipfile.ZipInfo(name)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            archive.writestr(info, "/etc/passwd")
    return buffer.getvalue()


GOOD = {
    "ml-test/": b"",
    "ml-test/ratings.csv": b"userId,movieId,rating,timestamp\r\n",
    "ml-test/movies.csv": b"movieId,title,genres\r\n",
    "ml-test/README.txt": b"readme",
}


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


def test_command_uses_the_settings_url_and_exit_codes(
    grouplens: FakeGroupLens, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    grouplens.publish("ml-test", build_zip(GOOD))
    settings = Settings(data_dir=tmp_path, grouplens_url=grouplens.url)
    assert run_download(settings, dataset="ml-test") == 0
    assert (tmp_path / "movielens" / "ratings.csv").is_file()
    assert run_download(settings, dataset="ml-missing") == 1
    assert "ml-missing.zip.md5 answered HTTP 404" in caplog.text
