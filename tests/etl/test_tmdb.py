"""The TMDB client against a fake TMDB on 127.0.0.1: retries, 429, 404, bad JSON, resuming."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from etl.errors import EtlError
from etl.metadata import Metadata
from etl.tmdb import EnrichReport, RetryPolicy, TmdbCache, enrich
from tests.etl.conftest import FakeTmdb, Reply

# A timeout no answer of the fake server comes near, however loaded the machine: a spurious
# timeout would add a request that the counting tests below do not expect.
FAST = RetryPolicy(attempts=3, backoff_seconds=0.01, timeout_seconds=60.0)
# For the timeout test: a reply that hangs far longer than this times out, whatever the load.
SHORT_TIMEOUT = RetryPolicy(attempts=3, backoff_seconds=0.01, timeout_seconds=2.0)
TOKEN = "test-token"


@pytest.fixture
def cache(tmp_path: Path) -> TmdbCache:
    return TmdbCache(tmp_path / "tmdb")


def run(
    ids: list[int],
    cache: TmdbCache,
    tmdb: FakeTmdb,
    *,
    concurrency: int = 8,
    limit: int | None = None,
    policy: RetryPolicy = FAST,
) -> EnrichReport:
    return asyncio.run(
        enrich(
            ids,
            cache,
            token=TOKEN,
            base_url=tmdb.url,
            policy=policy,
            concurrency=concurrency,
            limit=limit,
        )
    )


def test_fetches_with_bearer_auth_and_caches_the_movies_own_backdrop(
    tmdb: FakeTmdb, cache: TmdbCache
) -> None:
    report = run([10, 11], cache, tmdb, concurrency=2)
    assert (report.fetched, report.not_found, sum(report.failed.values())) == (2, 0, 0)
    assert {seen.authorization for seen in tmdb.seen} == {f"Bearer {TOKEN}"}
    assert {tuple(seen.language) for seen in tmdb.seen} == {("en-US",)}
    expected = Metadata("Original 10", "Overview 10", "/poster10.jpg", "/own10.jpg")
    assert cache.metadata(10) == expected


def test_retries_5xx_and_timeouts_then_succeeds(tmdb: FakeTmdb, cache: TmdbCache) -> None:
    tmdb.script[1] = [Reply(status=500, body=b"oops"), Reply(status=503, body=b""), Reply()]
    tmdb.script[2] = [Reply(delay=60.0), Reply()]
    report = run([1, 2], cache, tmdb, policy=SHORT_TIMEOUT)
    assert report.fetched == 2
    assert len(tmdb.requests_for(1)) == 3
    assert len(tmdb.requests_for(2)) == 2
    assert cache.metadata(1) is not None
    assert cache.metadata(2) is not None


def test_gives_up_after_the_attempts_and_retries_on_the_next_run(
    tmdb: FakeTmdb, cache: TmdbCache
) -> None:
    tmdb.script[7] = [Reply(status=502, body=b"")]
    report = run([7], cache, tmdb)
    assert report.failed == {"gave up after 3 attempts (HTTP 502)": 1}
    assert not cache.has_answer(7)
    tmdb.script[7] = [Reply()]
    assert run([7], cache, tmdb).fetched == 1
    assert len(tmdb.requests_for(7)) == 4


def test_429_waits_for_retry_after(tmdb: FakeTmdb, cache: TmdbCache) -> None:
    tmdb.script[5] = [Reply(status=429, body=b"{}", headers={"Retry-After": "1"}), Reply()]
    report = run([5], cache, tmdb)
    first, second = tmdb.requests_for(5)
    assert report.fetched == 1
    assert second.at - first.at >= 0.95  # the pause TMDB asked for, not the 10 ms backoff


def test_404_is_cached_as_not_found_and_never_refetched(tmdb: FakeTmdb, cache: TmdbCache) -> None:
    tmdb.script[404] = [Reply(status=404, body=b'{"status_code": 34}')]
    report = run([404], cache, tmdb)
    again = run([404], cache, tmdb)
    assert report.not_found == 1
    assert (again.already_cached, again.fetched) == (1, 0)
    assert len(tmdb.requests_for(404)) == 1
    assert cache.metadata(404) is None


@pytest.mark.parametrize("body", [b"{not json", b"[1, 2]", b""])
def test_malformed_json_is_counted_and_not_cached(
    tmdb: FakeTmdb, cache: TmdbCache, body: bytes
) -> None:
    tmdb.script[3] = [Reply(body=body)]
    report = run([3], cache, tmdb)
    assert report.failed == {"malformed JSON": 1}
    assert not cache.has_answer(3)


def test_refused_token_stops_the_run(tmdb: FakeTmdb, cache: TmdbCache) -> None:
    tmdb.script[1] = [Reply(status=401, body=b'{"status_code": 7}')]
    with pytest.raises(EtlError, match="refused the API token"):
        run([1, 2, 3], cache, tmdb, concurrency=1)


def test_limit_then_resume_fetches_only_the_rest(tmdb: FakeTmdb, cache: TmdbCache) -> None:
    first = run([1, 2, 3, 4, 5], cache, tmdb, limit=2)
    second = run([1, 2, 3, 4, 5], cache, tmdb)
    assert (first.fetched, second.already_cached, second.fetched) == (2, 2, 3)
    assert sorted(seen.tmdb_id for seen in tmdb.seen) == [1, 2, 3, 4, 5]


def test_cancelled_run_resumes_without_refetching(tmdb: FakeTmdb, cache: TmdbCache) -> None:
    for tmdb_id in range(1, 21):
        tmdb.script[tmdb_id] = [Reply(delay=0.05)]
    ids = list(range(1, 21))

    async def interrupted() -> None:
        task = asyncio.create_task(
            enrich(ids, cache, token=TOKEN, base_url=tmdb.url, policy=FAST, concurrency=2)
        )
        while len(list(cache.directory.glob("*.json"))) < 4:
            await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(interrupted())
    done = {int(path.stem) for path in cache.directory.glob("*.json")}
    assert 4 <= len(done) < 20
    assert not list(cache.directory.glob(".*.part"))
    resumed = run(ids, cache, tmdb)
    assert resumed.already_cached == len(done)
    assert resumed.fetched == 20 - len(done)
    for tmdb_id in done:
        assert len(tmdb.requests_for(tmdb_id)) == 1
