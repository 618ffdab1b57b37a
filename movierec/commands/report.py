"""``movierec report``: read the store into frames, hand them to ``recommender.analysis``."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Connection

from data import stats
from data.db import open_store
from movierec.commands.guard import guarded, print_lines
from movierec.commands.store import nonempty_ratings
from movierec.settings import Settings
from recommender.analysis import ReportData, summarize, write_report


def read_report_data(conn: Connection) -> ReportData:
    """Every figure of the report, for what the store holds (fixes of the ETL included)."""
    return summarize(
        nonempty_ratings(conn), stats.movies_frame(conn), stats.movie_genres_frame(conn)
    )


def run_report(settings: Settings, *, out: Path | None = None) -> int:
    """Write the data report (charts + report.md) into ``out`` (default ``<data dir>/report``)."""

    def work() -> int:
        engine = open_store(settings.resolved_database_url)
        try:
            with engine.connect() as conn:
                data = read_report_data(conn)
        finally:
            engine.dispose()
        print_lines([f"report written to {write_report(data, out or settings.report_dir)}"])
        return 0

    return guarded(work)
