"""Table definitions (SQLAlchemy Core), portable between SQLite and PostgreSQL.

Ids of movies and of MovieLens users are the MovieLens ids, so a rating in the CSV, a row in the
store and an index in a model artifact all name the same thing. Timestamps of ratings and tags are
Unix seconds, as in MovieLens.

This module is the schema's one declaration: Alembic's revisions (``data/migrations/``) bring a
database to it, and a test checks that the newest revision builds exactly these tables, so
``make migration`` can autogenerate the next revision from a change here.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    Table,
    Text,
    false,
    func,
)

from data.domain import RATING_SCALE

metadata = MetaData()

movies = Table(
    "movies",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("title", Text, nullable=False, doc="Title without the year."),
    Column(
        "movielens_title", Text, nullable=False, doc="Title as MovieLens spells it, year included."
    ),
    Column("year", Integer, nullable=True),
    Column("imdb_id", Text, nullable=True, doc="With its prefix: tt0114709."),
    Column("tmdb_id", Integer, nullable=True),
    Column("original_title", Text, nullable=True),
    Column("overview", Text, nullable=True),
    Column("poster_path", Text, nullable=True),
    Column("backdrop_path", Text, nullable=True),
)

genres = Table(
    "genres",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", Text, nullable=False, unique=True),
)

# Genres are a real many-to-many; `position` keeps the MovieLens order so that the legacy
# shim can rebuild the exact "Adventure|Animation|Children" string the iOS app received.
movie_genres = Table(
    "movie_genres",
    metadata,
    Column("movie_id", Integer, ForeignKey("movies.id", ondelete="CASCADE"), primary_key=True),
    Column("genre_id", Integer, ForeignKey("genres.id", ondelete="CASCADE"), primary_key=True),
    Column("position", Integer, nullable=False, doc="Order in MovieLens' pipe-joined string."),
    Index("ix_movie_genres_genre", "genre_id", "movie_id"),
)

users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("username", Text, nullable=False),
    Column("password_hash", Text, nullable=False),
    Column("is_demo", Boolean, nullable=False, server_default=false()),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)
# Usernames are unique case-insensitively: the shipped iOS app lowercases what is typed.
Index("ux_users_username_lower", func.lower(users.c.username), unique=True)

# One row per (user, movie), stored in that order: SQLite keeps the table itself as a B-tree on
# the key (WITHOUT ROWID), so one user's ratings, every column of them, are one range scan and
# each rating is written once; PostgreSQL, whose tables are heaps, carries the other columns in
# its primary-key index (INCLUDE) for the same index-only read. That read
# (data.ratings.user_rating_arrays) is on every recommendation's path.
ratings = Table(
    "ratings",
    metadata,
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("movie_id", Integer, ForeignKey("movies.id", ondelete="CASCADE"), nullable=False),
    Column("rating", Float, nullable=False),
    Column("rated_at", BigInteger, nullable=False, doc="Unix seconds."),
    PrimaryKeyConstraint("user_id", "movie_id", postgresql_include=["rating", "rated_at"]),
    CheckConstraint(
        f"rating >= {RATING_SCALE.lowest} AND rating <= {RATING_SCALE.highest} AND "
        f"rating * {RATING_SCALE.steps_per_unit} = "
        f"CAST(rating * {RATING_SCALE.steps_per_unit} AS INTEGER)",
        name="ck_ratings_half_stars",
    ),
    # A movie's ratings (its average and count; deleting a movie cascades through it).
    Index("ix_ratings_movie", "movie_id"),
    # A user's ratings by time (their pages, the legacy rated-movies list, the newest raters).
    Index("ix_ratings_user_time", "user_id", "rated_at"),
    # The newest rating and the trending window.
    Index("ix_ratings_time", "rated_at"),
    sqlite_with_rowid=False,
)

# Per-movie aggregates of the ratings, kept exact by triggers on ``ratings`` (migration 0006;
# SQLite triggers, a PL/pgSQL trigger function on PostgreSQL) in the writing statement's own
# transaction, so every writer (the API, the ETL, a cascade from a deleted movie or user) keeps
# them current with no service code involved. The home-screen rails and the catalog's sorts read
# one row per rated movie here instead of aggregating every rating. A movie without ratings has
# no row. ``rating_sum`` of half stars is exact in a double, so sum / count is the same average
# as avg() over the ratings.
movie_rating_stats = Table(
    "movie_rating_stats",
    metadata,
    Column(
        "movie_id",
        Integer,
        ForeignKey("movies.id", ondelete="CASCADE"),
        primary_key=True,
        autoincrement=False,
    ),
    Column("rating_count", Integer, nullable=False),
    Column("rating_sum", Float, nullable=False),
    Column("first_rated_at", BigInteger, nullable=False, doc="Unix seconds of its first rating."),
)

# Per user, a version of the inputs of their recommendations (their ratings and watchlist): a
# fresh random value with every write to either, set by triggers on both tables (migration 0007)
# in the writing statement's own transaction, whoever writes. A worker's cached ranking for a
# user is served only under the version it was ranked at, so a hit reads this one row instead
# of every rating. No foreign key: a cascade from a deleted user bumps the row as it deletes the
# user's ratings; a user with no row has never had a rating or a saved movie.
user_versions = Table(
    "user_versions",
    metadata,
    Column("user_id", Integer, primary_key=True, autoincrement=False),
    Column("version", BigInteger, nullable=False),
)

# Per user with many ratings, those ratings packed into one value (``data.ratings``' layout:
# rated_at int64, then movie_id int32, then twice the rating uint8, each little-endian and
# ordered by movie id), so a request reads one row instead of aggregating every rating.
# ``stale_writes`` counts the writes to the user's ratings the vector does not hold: triggers on
# ``ratings`` add one per writing statement (migration 0008), whoever writes, and the writers in
# ``data.ratings`` fold their own write in and set it back to 0; a reader trusts the vector only
# at 0 and otherwise aggregates the ratings. No foreign key, like ``user_versions``.
user_rating_vectors = Table(
    "user_rating_vectors",
    metadata,
    Column("user_id", Integer, primary_key=True, autoincrement=False),
    Column("stale_writes", Integer, nullable=False),
    Column("ratings", LargeBinary, nullable=False, doc="See data.ratings.pack_ratings."),
)

# Movies a user saved to watch later, newest first on their Watchlist page. A saved movie is left
# out of the user's recommendations; rating it removes it from here (it has been watched).
watchlist = Table(
    "watchlist",
    metadata,
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("movie_id", Integer, ForeignKey("movies.id", ondelete="CASCADE"), primary_key=True),
    Column("added_at", BigInteger, nullable=False, doc="Unix seconds."),
    Index("ix_watchlist_user_time", "user_id", "added_at"),
)

tags = Table(
    "tags",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("movie_id", Integer, ForeignKey("movies.id", ondelete="CASCADE"), nullable=False),
    Column("tag", Text, nullable=False),
    Column("tagged_at", BigInteger, nullable=False, doc="Unix seconds."),
    Index("ux_tags_user_movie_tag", "user_id", "movie_id", "tag", unique=True),
)

# Bearer tokens are signed JWTs any worker can check alone; signing out records the token's id
# here until the token would have expired anyway, and a request carrying a token looks its id up
# (the primary key). Rows past ``expires_at`` prove nothing and are purged on each logout.
revoked_tokens = Table(
    "revoked_tokens",
    metadata,
    Column("jti", Text, primary_key=True, doc="The token's id claim."),
    Column("expires_at", BigInteger, nullable=False, doc="Unix seconds: the token's expiry."),
    Index("ix_revoked_tokens_expires", "expires_at"),
)

# Counters behind the attempt limits (failed logins per username and per address, sign-ups per
# address), in the store so that every worker counts against the same number. One row per key:
# the attempts since its window opened and when the window closes; a row past ``expires_at``
# counts nothing and is purged by the next attempt. Keys are short by construction (a limit's
# name and an address or a username of at most 30 characters, checked in the service).
rate_limits = Table(
    "rate_limits",
    metadata,
    Column("key", Text, primary_key=True, doc="<limit name>:<username or client address>."),
    Column("count", Integer, nullable=False, doc="Attempts in the window."),
    Column("expires_at", BigInteger, nullable=False, doc="Unix seconds: the window's end."),
    Index("ix_rate_limits_expires", "expires_at"),
)
