"""A tiny MovieLens folder with the real files' quirks, a full dump of a store to compare, and
fake TMDB and GroupLens servers on 127.0.0.1.

``tests/movierec/commands`` uses these fixtures too (its conftest imports them)."""

from __future__ import annotations

import hashlib
import io
import json
import stat
import threading
import time
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

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


@dataclass
class Reply:
    status: int = 200
    body: bytes | None = None  # None: a movie body for the requested id
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


@dataclass
class Seen:
    tmdb_id: int
    at: float
    authorization: str
    language: list[str]


def movie_body(tmdb_id: int) -> bytes:
    return json.dumps(
        {
            "id": tmdb_id,
            "original_title": f"Original {tmdb_id}",
            "overview": f"Overview {tmdb_id}",
            "poster_path": f"/poster{tmdb_id}.jpg",
            "backdrop_path": f"/own{tmdb_id}.jpg",
            "belongs_to_collection": {"backdrop_path": "/collection.jpg"},
        }
    ).encode()


class FakeTmdb:
    """Answers ``/3/movie/<id>`` from a per-id script (the last reply repeats); logs requests."""

    def __init__(self) -> None:
        self.script: dict[int, list[Reply]] = {}
        self.seen: list[Seen] = []
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                url = urlsplit(self.path)
                tmdb_id = int(url.path.rsplit("/", 1)[-1])
                with fake._lock:
                    fake.seen.append(
                        Seen(
                            tmdb_id,
                            time.monotonic(),
                            self.headers.get("Authorization", ""),
                            parse_qs(url.query).get("language", []),
                        )
                    )
                    replies = fake.script.get(tmdb_id, [Reply()])
                    reply = replies.pop(0) if len(replies) > 1 else replies[0]
                time.sleep(reply.delay)
                body = movie_body(tmdb_id) if reply.body is None else reply.body
                try:
                    self.send_response(reply.status)
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client timed out and left

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def requests_for(self, tmdb_id: int) -> list[Seen]:
        return [seen for seen in self.seen if seen.tmdb_id == tmdb_id]


@contextmanager
def serving(server: ThreadingHTTPServer) -> Iterator[None]:
    """Serve from a background thread; on exit stop it and free the port, so no fake server
    outlives its test. The short poll interval keeps shutdown quick."""
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture
def tmdb() -> Iterator[FakeTmdb]:
    fake = FakeTmdb()
    with serving(fake.server):
        yield fake


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
