"""One object holding every service of a worker, built once at start-up from the config."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine

from data.db import LoopReads, open_store, reader
from graph.config import AppConfig
from graph.services.accounts import Accounts
from graph.services.catalog import Catalog
from graph.services.ratelimit import AttemptLimits, Limit
from graph.services.ratings import Ratings
from graph.services.recommendations import Recommendations, load_recommender
from graph.services.tokens import RevokedTokens, TokenSigner
from graph.services.watchlist import Watchlist
from recommender.serving import Recommender


@dataclass(frozen=True)
class Services:
    engine: Engine
    loop_reads: LoopReads
    catalog: Catalog
    recommendations: Recommendations
    ratings: Ratings
    accounts: Accounts
    watchlist: Watchlist


def build_services(config: AppConfig, recommender: Recommender | None = None) -> Services:
    """Open the store (which must exist) and load the model, or take ``recommender`` as given."""
    engine = open_store(config.database_url)
    # Catalog and Recommendations only read; the others write on ``engine`` and read on a reader.
    reads = reader(engine)
    loop_reads = LoopReads(engine)
    catalog = Catalog(
        reads,
        aggregates_ttl_seconds=config.aggregates_ttl_seconds,
        trending_window_days=config.trending_window_days,
    )
    window = config.login_window_seconds
    accounts = Accounts(
        engine,
        TokenSigner(config.secret_key, config.token_ttl_seconds, RevokedTokens(engine, loop_reads)),
        limits=AttemptLimits(engine),
        logins_per_username=Limit("login-user", config.login_failures_per_username, window),
        logins_per_address=Limit("login-addr", config.login_failures_per_address, window),
        signups_per_address=Limit(
            "signup-addr", config.signups_per_address, config.signup_window_seconds
        ),
    )
    return Services(
        engine=engine,
        loop_reads=loop_reads,
        catalog=catalog,
        recommendations=Recommendations(
            reads,
            recommender or load_recommender(reads, config.models_dir),
            catalog,
            config.models_dir,
            cache_entries=config.recommendation_cache_entries,
            loop_reads=loop_reads,
        ),
        ratings=Ratings(engine, loop_reads),
        accounts=accounts,
        watchlist=Watchlist(engine),
    )
