"""The commands run the ingest end to end, so they share its fixtures: the tiny MovieLens folder
and the fake TMDB and GroupLens servers."""

from tests.etl.conftest import grouplens, movielens_small, tmdb

__all__ = ["grouplens", "movielens_small", "tmdb"]
