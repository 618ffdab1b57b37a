"""TMDB enrichment: an async client for ``GET /3/movie/{id}`` and its on-disk cache.

The cache holds TMDB's raw answer per TMDB id (``<id>.json``) or a ``<id>.404`` marker for a
movie TMDB does not know, written atomically, so an interrupted run loses at most the requests
in flight and a rerun fetches only what is missing. Malformed answers are counted and never
cached, so they are retried next time. The client keeps ``concurrency`` requests in flight,
pauses every worker when TMDB answers 429 (for its ``Retry-After``), and retries timeouts,
connection errors and 5xx with exponential backoff.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import random
import sys
import tempfile
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import httpx
from tqdm import tqdm

from etl.errors import EtlError
from etl.metadata import Metadata

log = logging.getLogger(__name__)


class TmdbCache:
    """Raw TMDB responses on disk, one file per TMDB id."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def _found(self, tmdb_id: int) -> Path:
        return self.directory / f"{tmdb_id}.json"

    def _missing(self, tmdb_id: int) -> Path:
        return self.directory / f"{tmdb_id}.404"

    def has_answer(self, tmdb_id: int) -> bool:
        """True when TMDB already answered for this id, with a movie or with 404."""
        return self._found(tmdb_id).is_file() or self._missing(tmdb_id).is_file()

    def metadata(self, tmdb_id: int) -> Metadata | None:
        """The cached movie's metadata; ``None`` without a good cached response."""
        path = self._found(tmdb_id)
        try:
            body = json.loads(path.read_bytes())
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            log.warning("ignoring unreadable TMDB cache file %s: %s", path, exc)
            return None
        return Metadata.from_tmdb(body) if isinstance(body, dict) else None

    def store(self, tmdb_id: int, body: bytes) -> None:
        self._write(self._found(tmdb_id), body)

    def store_not_found(self, tmdb_id: int) -> None:
        self._write(self._missing(tmdb_id), b"")

    def _write(self, path: Path, data: bytes) -> None:
        """Write then rename, so a killed run never leaves half a file that looks cached."""
        self.directory.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=self.directory, prefix=".", suffix=".part")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise


@dataclass
class EnrichReport:
    """Counts of one enrichment run; ``failed`` movies are retried by the next run."""

    requested: int = 0
    already_cached: int = 0
    fetched: int = 0
    not_found: int = 0
    failed: Counter[str] = field(default_factory=Counter)

    def lines(self) -> list[str]:
        out = [
            f"TMDB ids: {self.requested:,}, already cached: {self.already_cached:,}",
            f"fetched: {self.fetched:,}, not found (404, cached): {self.not_found:,}",
        ]
        out.extend(f"failed: {problem}: {n:,}" for problem, n in sorted(self.failed.items()))
        return out


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try one movie; tests shrink the delays."""

    attempts: int = 5
    backoff_seconds: float = 0.5
    timeout_seconds: float = 10.0


class _Pause:
    """A shared pause: after a 429, no worker sends anything until ``Retry-After`` has passed."""

    def __init__(self) -> None:
        self._until = 0.0

    def extend(self, seconds: float) -> None:
        self._until = max(self._until, asyncio.get_running_loop().time() + seconds)

    async def wait(self) -> None:
        loop = asyncio.get_running_loop()
        while (remaining := self._until - loop.time()) > 0:
            await asyncio.sleep(remaining)


async def enrich(
    tmdb_ids: Iterable[int],
    cache: TmdbCache,
    *,
    token: str,
    base_url: str,
    concurrency: int = 8,
    limit: int | None = None,
    policy: RetryPolicy | None = None,
) -> EnrichReport:
    """Fetch every TMDB id the cache has no answer for (at most ``limit`` of them).

    Raises ``EtlError`` when TMDB refuses the token, since no other request can succeed then.
    """
    if concurrency < 1:
        raise EtlError(f"concurrency must be at least 1, not {concurrency}")
    policy = policy or RetryPolicy()
    wanted = sorted(set(tmdb_ids))
    todo = [tmdb_id for tmdb_id in wanted if not cache.has_answer(tmdb_id)]
    report = EnrichReport(requested=len(wanted), already_cached=len(wanted) - len(todo))
    if limit is not None:
        todo = todo[: max(limit, 0)]
    queue: asyncio.Queue[int] = asyncio.Queue()
    for tmdb_id in todo:
        queue.put_nowait(tmdb_id)
    pause = _Pause()
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    async with httpx.AsyncClient(
        base_url=base_url, headers=headers, timeout=policy.timeout_seconds
    ) as client:
        with tqdm(total=len(todo), desc="TMDB", disable=not sys.stderr.isatty()) as bar:

            async def worker() -> None:
                while not queue.empty():
                    tmdb_id = queue.get_nowait()
                    await _fetch_one(client, tmdb_id, cache, report, pause, policy)
                    bar.update()

            try:
                async with asyncio.TaskGroup() as group:
                    for _ in range(min(concurrency, len(todo))):
                        group.create_task(worker())
            except ExceptionGroup as errors:
                raise errors.exceptions[0] from None
    return report


async def _fetch_one(
    client: httpx.AsyncClient,
    tmdb_id: int,
    cache: TmdbCache,
    report: EnrichReport,
    pause: _Pause,
    policy: RetryPolicy,
) -> None:
    problem = ""
    for attempt in range(policy.attempts):
        await pause.wait()
        try:
            response = await client.get(f"/3/movie/{tmdb_id}", params={"language": "en-US"})
        except httpx.TimeoutException:
            problem = "timeout"
        except httpx.TransportError as exc:
            problem = f"connection error ({type(exc).__name__})"
        else:
            status = response.status_code
            if status == 200:
                _keep(tmdb_id, response.content, cache, report)
                return
            if status == 404:
                cache.store_not_found(tmdb_id)
                report.not_found += 1
                return
            if status in (401, 403):
                raise EtlError(f"TMDB refused the API token (HTTP {status}); check TMDB_API_TOKEN")
            if status == 429:
                problem = "rate limited (429)"
                pause.extend(_retry_after(response, policy, attempt))
                continue
            if status < 500:
                report.failed[f"HTTP {status}"] += 1
                return
            problem = f"HTTP {status}"
        await asyncio.sleep(_backoff(policy, attempt))
    log.debug("TMDB id %d: giving up after %d attempts: %s", tmdb_id, policy.attempts, problem)
    report.failed[f"gave up after {policy.attempts} attempts ({problem})"] += 1


def _keep(tmdb_id: int, content: bytes, cache: TmdbCache, report: EnrichReport) -> None:
    """Cache a 200 answer only when it is a JSON object: anything else is retried next run."""
    try:
        body: Any = json.loads(content)
    except ValueError:
        body = None
    if not isinstance(body, dict):
        report.failed["malformed JSON"] += 1
        return
    cache.store(tmdb_id, content)
    report.fetched += 1


def _backoff(policy: RetryPolicy, attempt: int) -> float:
    base = policy.backoff_seconds * 2.0**attempt
    return base + random.uniform(0, policy.backoff_seconds)


def _retry_after(response: httpx.Response, policy: RetryPolicy, attempt: int) -> float:
    """Seconds to wait from ``Retry-After`` (seconds or an HTTP date); backoff without one."""
    value = response.headers.get("Retry-After", "").strip()
    if value.isdigit():
        return float(value)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return _backoff(policy, attempt)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max((moment - datetime.now(UTC)).total_seconds(), 0.0)
