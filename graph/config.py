"""What the server needs to know, as plain values: graph/ never reads the environment.

``movierec.bootstrap`` fills this from ``movierec.settings.Settings``; tests build it directly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class GraphQLLimits:
    """Per-request limits, generous for the web app's deepest query (depth 6, ~300 tokens)."""

    max_query_depth: int = 10
    max_aliases: int = 15
    max_tokens: int = 2000
    max_batch_operations: int = 10
    # What the operations of one HTTP request may cost together (graph/cost.py: 1 per field
    # per object, 10 more per call of a field taking `first`): a few hundred ms of a worker's
    # CPU (bench/attack.py). The web app's costliest query, a "See all" page of 100
    # recommendations, costs 1,608 (tests/graph/test_cost.py runs them all).
    max_cost: int = 10_000
    # Fields resolved through a DataLoader on each object (graph/cost.py, LOADED_FIELDS), over
    # the operations of one request. Charged 1 each, the viewer's fields took 0.65-1.0 s of CPU
    # at 4,500 in one request (15 aliased rails of 100 movies), within the cost budget; the web
    # app's most is 600 (a "See all" page of 100 recommendations with their reasons).
    max_loaded_fields: int = 1_000
    # Fields answering at one response path, and fields of a document once its fragments are
    # spread (each once per path), checked before validation (graph/limits.py, crowding).
    max_same_name_fields: int = 10
    max_expanded_fields: int = 2000
    # Seconds one HTTP request to /graphql may take, a whole batch included (graph/router.py).
    deadline_seconds: float = 5.0
    # Bytes of any request body, on every route, counted as they arrive (graph/body_limit.py).
    max_body_bytes: int = 1_000_000


@dataclass(frozen=True)
class AppConfig:
    database_url: str
    models_dir: Path
    secret_key: str
    token_ttl_seconds: int = 7 * 24 * 3600
    legacy_api: bool = True
    web_dir: Path | None = None
    limits: GraphQLLimits = field(default_factory=GraphQLLimits)
    # Failed logins allowed per window before TooManyAttempts.
    login_failures_per_username: int = 5
    login_failures_per_address: int = 20
    login_window_seconds: int = 300
    # Sign-up attempts (taken names included) allowed per client address per window.
    signups_per_address: int = 10
    signup_window_seconds: int = 3600
    aggregates_ttl_seconds: float = 60.0
    # /readyz answers "timeout" when the store's reads take longer than this.
    readiness_timeout_seconds: float = 2.0
    trending_window_days: int = 90
    # How often each worker checks LATEST for a model a retrain published (None: never).
    model_check_seconds: float | None = 2.0
    # Users' ranked lists a worker keeps (graph/services/ranking_cache.py; 0: none).
    recommendation_cache_entries: int = 4096
