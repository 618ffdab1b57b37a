"""Model artifacts on disk: NumPy arrays in ``.npz`` plus JSON metadata, never a pickle.

Each ``movierec train`` writes a new folder ``<models_dir>/<created>/`` holding ``arrays.npz``
and ``meta.json``, then points ``<models_dir>/LATEST`` at it with an atomic rename, so a server
starting mid-training reads either the old model or the new one, never half of one. The JSON
records the checksum of the npz, the format version and the fingerprint of the movie catalog the
model was trained against; loading checks all three and raises :class:`ArtifactError` with a
message a person can act on.

Format 3 holds ``movie_ids`` (the shared, sorted movie index) and, for each role of the serving
object (``ranker``, ``rating``, ``cold_start``), the arrays of the model filling it under the
key prefix ``<role>.``; ``meta.json``'s ``models`` names each role's registered class and holds
its meta (hyper-parameters, scalars, the blend's validation record). Models check their own
arrays' dtypes and shapes on load (:mod:`recommender.models.contract`). Every array is movies x
a constant: memory is linear in movies and holds nothing per user. Format 2 artifacts (one fixed
pair of models, flat keys) are refused like any other version: run ``movierec train``.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

FORMAT_VERSION = 3
LATEST = "LATEST"
ARRAYS = "arrays.npz"
META = "meta.json"


class ArtifactError(Exception):
    """A model artifact is missing, corrupt, of another format version, or for other data."""


@dataclass(frozen=True)
class Artifact:
    arrays: dict[str, np.ndarray]
    meta: dict[str, Any]
    path: Path


def catalog_fingerprint(movie_ids: np.ndarray) -> str:
    """Stable digest of a set of movie ids: order and duplicates do not matter."""
    ids = np.unique(np.asarray(movie_ids, dtype=np.int64)).astype("<i8")
    return hashlib.sha256(ids.tobytes()).hexdigest()


def save(models_dir: Path, arrays: dict[str, np.ndarray], meta: dict[str, Any]) -> Path:
    """Write a new artifact version and make it the latest; returns its folder."""
    created = datetime.now(UTC)
    folder = models_dir / created.strftime("%Y%m%dT%H%M%S%fZ")
    folder.mkdir(parents=True, exist_ok=False)
    # Refused on save as on load: an object array would need pickle, which load never allows.
    np.savez(folder / ARRAYS, allow_pickle=False, **arrays)
    full_meta = {
        **meta,
        "version": folder.name,
        "format_version": FORMAT_VERSION,
        "created": created.isoformat(),
        "arrays_sha256": _sha256(folder / ARRAYS),
    }
    (folder / META).write_text(json.dumps(full_meta, indent=2, sort_keys=True) + "\n")
    pointer = models_dir / f".{LATEST}.tmp"
    pointer.write_text(folder.name + "\n")
    os.replace(pointer, models_dir / LATEST)
    return folder


def latest_version(models_dir: Path) -> str | None:
    """The version (folder name) ``LATEST`` names, or None: one small read, cheap enough for
    a server to check every few seconds whether a retrain published a new model."""
    try:
        return (models_dir / LATEST).read_text().strip() or None
    except (OSError, ValueError):
        return None


def prune(models_dir: Path, *, keep: int) -> list[Path]:
    """Remove all but the ``keep`` newest artifact folders (never the one ``LATEST`` names);
    returns the removed folders. Folder names are UTC timestamps, so name order is age order."""
    if keep < 1:
        raise ValueError(f"keep at least 1 artifact, got {keep}")
    latest = latest_version(models_dir)
    folders = sorted(
        path for path in models_dir.iterdir() if path.is_dir() and (path / META).is_file()
    )
    removed = [path for path in folders[:-keep] if path.name != latest]
    for path in removed:
        shutil.rmtree(path)
    return removed


def load(models_dir: Path, *, catalog_movie_ids: np.ndarray) -> Artifact:
    """Read the latest artifact and check format, integrity and catalog fingerprint."""
    pointer = models_dir / LATEST
    if not pointer.is_file():
        raise ArtifactError(f"no model artifact in {models_dir}: run `movierec train`")
    try:
        folder = models_dir / pointer.read_text().strip()
    except (OSError, ValueError) as exc:
        raise ArtifactError(f"{pointer}: unreadable ({exc})") from exc
    meta = _read_meta(folder / META)
    if meta.get("format_version") != FORMAT_VERSION:
        raise ArtifactError(
            f"{folder / META}: format version {meta.get('format_version')!r}, this movierec "
            f"reads {FORMAT_VERSION}: run `movierec train`"
        )
    if meta.get("arrays_sha256") != _sha256(folder / ARRAYS):
        raise ArtifactError(f"{folder / ARRAYS}: checksum mismatch, the file is corrupt")
    expected = catalog_fingerprint(catalog_movie_ids)
    if meta.get("catalog_fingerprint") != expected:
        raise ArtifactError(
            f"{folder}: trained on another movie catalog (fingerprint "
            f"{str(meta.get('catalog_fingerprint'))[:12]}, store {expected[:12]}): "
            "run `movierec train`"
        )
    try:
        with np.load(folder / ARRAYS, allow_pickle=False) as npz:
            arrays = {name: npz[name] for name in npz.files}
    except (OSError, ValueError, zipfile.BadZipFile) as exc:
        raise ArtifactError(f"{folder / ARRAYS}: unreadable ({exc})") from exc
    return Artifact(arrays=arrays, meta=meta, path=folder)


def _read_meta(path: Path) -> dict[str, Any]:
    try:
        meta = json.loads(path.read_text())
    except FileNotFoundError as exc:
        raise ArtifactError(f"{path}: missing; run `movierec train`") from exc
    except (OSError, ValueError) as exc:
        raise ArtifactError(f"{path}: unreadable ({exc})") from exc
    if not isinstance(meta, dict):
        raise ArtifactError(f"{path}: expected a JSON object")
    return meta


def _sha256(path: Path) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError as exc:
        raise ArtifactError(f"{path}: unreadable ({exc})") from exc
