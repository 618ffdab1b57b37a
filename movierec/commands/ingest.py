"""``movierec etl``, ``movierec etl enrich`` and ``movierec data download``: sources into the store.

Thin on purpose: they resolve settings into folders, URLs and a token, call one ``etl``
function with those plain values, and print its summary.
"""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path

from data import stats
from data.db import open_store, store_for_load
from etl.download import download
from etl.load import apply_cached_metadata, load_movielens
from etl.tmdb import TmdbCache, enrich
from movierec.commands.guard import CommandError, guarded, print_lines
from movierec.settings import Settings

log = logging.getLogger(__name__)


def run_etl(settings: Settings, *, movielens_dir: Path | None = None) -> int:
    """Load MovieLens (plus cached TMDB answers or combined_movies.csv) into the store."""

    def work() -> int:
        directory = movielens_dir or settings.resolved_movielens_dir
        if not (directory / "ratings.csv").is_file():
            raise CommandError(
                f"no MovieLens data in {directory} (no ratings.csv); run `movierec data "
                "download` or pass --movielens DIR"
            )
        started = time.perf_counter()
        with store_for_load(settings.resolved_database_url) as engine:
            summary = load_movielens(engine, directory, cached=_cache(settings).metadata)
        print_lines(
            [f"loaded {directory} in {time.perf_counter() - started:.1f} s", *summary.lines()]
        )
        return 0

    return guarded(work)


def run_enrich(settings: Settings, *, limit: int | None = None, concurrency: int = 8) -> int:
    """Fetch missing TMDB answers into the cache, then refresh the stored movies' metadata."""

    def work() -> int:
        token = settings.tmdb_api_token
        if not token:
            raise CommandError(
                "TMDB_API_TOKEN is not set; without it `movierec etl` uses combined_movies.csv"
            )
        cache = _cache(settings)
        engine = open_store(settings.resolved_database_url)
        try:
            with engine.connect() as conn:
                tmdb_ids = stats.tmdb_ids(conn)
            report = asyncio.run(
                enrich(
                    tmdb_ids.values(),
                    cache,
                    token=token,
                    base_url=settings.tmdb_base_url,
                    concurrency=concurrency,
                    limit=limit,
                )
            )
            updated = apply_cached_metadata(engine, tmdb_ids, cache.metadata)
        finally:
            engine.dispose()
        print_lines([*report.lines(), f"movies updated from the TMDB cache: {updated:,}"])
        if report.failed:
            log.error("%d movies failed; rerun to retry them", sum(report.failed.values()))
            return 1
        return 0

    return guarded(work)


def run_download(settings: Settings, *, dataset: str, dest: Path | None = None) -> int:
    """Download and verify a MovieLens archive into ``dest`` (default: the settings' folder)."""

    def work() -> int:
        target = dest or settings.resolved_movielens_dir
        md5 = download(dataset, target, base_url=settings.grouplens_url)
        print_lines([f"{dataset} (MD5 {md5}) is in {target}"])
        return 0

    return guarded(work)


def _cache(settings: Settings) -> TmdbCache:
    return TmdbCache(settings.cache_dir / "tmdb")
