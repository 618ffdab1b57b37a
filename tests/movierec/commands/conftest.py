"""The commands run the ingest end to end, so they share its fixtures: the tiny MovieLens folder,
the fake TMDB and GroupLens servers, and the session's one load of the real data."""

from tests.etl.conftest import grouplens, movielens_small, real_store, tmdb

__all__ = ["grouplens", "movielens_small", "real_store", "tmdb"]
