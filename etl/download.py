"""``movierec data download``: fetch a MovieLens archive from GroupLens, verify, extract safely.

The archive's MD5 is checked against GroupLens' own ``<dataset>.zip.md5`` from the same host and,
for the frozen data sets, against the value pinned below (so a tampered host cannot serve a
matching pair). Extraction refuses absolute paths, ``..`` and links, and happens in a staging
folder beside the destination that is renamed into place only when complete, so the existing
folder is never left half-replaced.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import shutil
import stat
import sys
import tempfile
import time
import zipfile
from pathlib import Path, PurePosixPath

import httpx
from tqdm import tqdm

from etl.errors import EtlError

log = logging.getLogger(__name__)

# MD5s GroupLens publishes for its frozen data sets that share ml-latest-small's CSV layout, as
# quoted from their .zip.md5 files by several independent public projects. ml-latest-small and
# ml-latest are republished over time, so only the live .md5 file can vouch for them.
KNOWN_MD5 = {
    "ml-20m": "cd245b17a1ae2cc31bb14903e1204af3",
    "ml-25m": "6b51fb2759a8657d3bfcbfc42b592ada",
}
_DATASET = re.compile(r"^ml-[a-z0-9-]+$")
_MD5 = re.compile(r"\b[0-9a-f]{32}\b")
_CHUNK = 1 << 20
# Written into every downloaded folder: its provenance, and the licence to replace it later.
MARKER = ".movierec-download.json"


def download(dataset: str, dest: Path, *, base_url: str) -> str:
    """Download ``<base_url>/<dataset>.zip`` into ``dest`` (the CSV files directly inside);
    ``base_url`` is GroupLens' folder (settings.grouplens_url) or a mirror.

    Returns the verified MD5. Raises ``EtlError`` for a bad name, a network or HTTP failure, a
    checksum mismatch or an unsafe or incomplete archive.
    """
    if not _DATASET.match(dataset):
        raise EtlError(f"not a MovieLens data set name: {dataset!r} (e.g. ml-latest-small)")
    url = f"{base_url.rstrip('/')}/{dataset}.zip"
    dest = dest.resolve()
    _check_replaceable(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=dest.parent, prefix=f".{dest.name}-"))
    try:
        with httpx.Client(timeout=60, follow_redirects=True) as client:
            expected = _published_md5(client, f"{url}.md5", dataset)
            archive = staging / f"{dataset}.zip"
            actual = _fetch(client, url, archive)
        if actual != expected:
            raise EtlError(f"checksum mismatch for {url}: expected MD5 {expected}, got {actual}")
        files = staging / "files"
        _extract(archive, files, top=dataset)
        if not (files / "ratings.csv").is_file():
            raise EtlError(f"{url} has no ratings.csv: not a MovieLens CSV data set")
        record = {"dataset": dataset, "url": url, "md5": actual, "downloaded_at": int(time.time())}
        (files / MARKER).write_text(json.dumps(record, indent=2) + "\n")
        _swap_into_place(files, dest)
    except httpx.HTTPError as exc:
        raise EtlError(f"download failed: {exc}") from exc
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    log.info("downloaded %s (MD5 %s) into %s", dataset, actual, dest)
    return actual


def _published_md5(client: httpx.Client, url: str, dataset: str) -> str:
    response = client.get(url)
    if response.status_code != 200:
        raise EtlError(f"cannot verify {dataset}: {url} answered HTTP {response.status_code}")
    match = _MD5.search(response.text.lower())
    if match is None:
        raise EtlError(f"cannot verify {dataset}: no MD5 in {url}")
    published = match.group()
    pinned = KNOWN_MD5.get(dataset)
    if pinned is not None and pinned != published:
        raise EtlError(f"{url} publishes MD5 {published}, but {dataset}'s is known to be {pinned}")
    return published


def _fetch(client: httpx.Client, url: str, path: Path) -> str:
    """Stream ``url`` to ``path``; returns its MD5."""
    digest = hashlib.md5(usedforsecurity=False)
    with client.stream("GET", url) as response:
        if response.status_code != 200:
            raise EtlError(f"{url} answered HTTP {response.status_code}")
        total = int(response.headers.get("Content-Length", 0)) or None
        with (
            path.open("wb") as handle,
            tqdm(total=total, unit="B", unit_scale=True, disable=not sys.stderr.isatty()) as bar,
        ):
            for block in response.iter_bytes(_CHUNK):
                handle.write(block)
                digest.update(block)
                bar.update(len(block))
    return digest.hexdigest()


def _extract(archive: Path, target: Path, *, top: str) -> None:
    """Extract regular files, dropping the archive's top folder (``ml-latest-small/``)."""
    try:
        with zipfile.ZipFile(archive) as bundle:
            for member in bundle.infolist():
                relative = _safe_member(member, top)
                if relative is None:
                    continue
                path = target.joinpath(*relative.parts)
                path.parent.mkdir(parents=True, exist_ok=True)
                with bundle.open(member) as source, path.open("wb") as sink:
                    shutil.copyfileobj(source, sink, _CHUNK)
    except zipfile.BadZipFile as exc:
        raise EtlError(f"{archive.name} is not a valid zip archive: {exc}") from exc


def _safe_member(member: zipfile.ZipInfo, top: str) -> PurePosixPath | None:
    """The member's path below ``top``; ``None`` for folders; an error for anything unsafe."""
    name = PurePosixPath(member.filename.replace("\\", "/"))
    # A nameless member ("" or ".") would be written over the target folder itself.
    if not name.parts or name.is_absolute() or ".." in name.parts or ":" in member.filename:
        raise EtlError(f"unsafe path in archive: {member.filename!r}")
    if stat.S_ISLNK(member.external_attr >> 16):
        raise EtlError(f"link in archive refused: {member.filename!r}")
    if member.is_dir():
        return None
    parts = name.parts[1:] if name.parts[0] == top else name.parts
    return PurePosixPath(*parts) if parts else None


def _check_replaceable(dest: Path) -> None:
    """Refuse to replace a folder this command did not write: it may be someone's only copy.

    A download replaces its destination whole, so pointing it at a hand-made or shared data
    folder (say, the one ``MOVIEREC_MOVIELENS_DIR`` names) would otherwise delete that data.
    """
    if dest.is_dir() and any(dest.iterdir()) and not (dest / MARKER).is_file():
        raise EtlError(
            f"refusing to replace {dest}: it holds files that `movierec data download` did not "
            "write; choose an empty or new folder with --dest, or move those files away"
        )


def _swap_into_place(files: Path, dest: Path) -> None:
    """Replace ``dest`` by ``files`` with renames on one filesystem: never a half-written dest."""
    if not dest.exists():
        files.rename(dest)
        return
    retired = Path(tempfile.mkdtemp(dir=dest.parent, prefix=f".{dest.name}-old-"))
    dest.rename(retired / dest.name)
    try:
        files.rename(dest)
    except OSError:
        (retired / dest.name).rename(dest)
        raise
    finally:
        shutil.rmtree(retired, ignore_errors=True)
