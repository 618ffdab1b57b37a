"""Settings, read once from the environment and passed down as plain values.

Every knob has a default that runs with no configuration at all: an embedded SQLite store and
model artifacts in the data folder, the server on 127.0.0.1:5000 (the address the shipped iOS
app calls).

The data folder never defaults to anything beside the code: an installed package lives in a
read-only site-packages shared by every user, so runtime state goes to the user's data folder
(``~/.local/share/movierec`` on Linux). A checkout gets its git-ignored ``var/`` from the
Makefile, which sets ``MOVIEREC_DATA_DIR``.
"""

from __future__ import annotations

from pathlib import Path

from platformdirs import user_data_path
from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def default_data_dir() -> Path:
    """The per-user data folder, looked up when settings are read (``XDG_DATA_HOME`` counts)."""
    return user_data_path("movierec", appauthor=False)


class Settings(BaseSettings):
    """All configuration of movierec; environment variables are ``MOVIEREC_<NAME>``."""

    model_config = SettingsConfigDict(env_prefix="MOVIEREC_", env_ignore_empty=True, frozen=True)

    data_dir: Path = Field(
        default_factory=default_data_dir, description="Runtime state: store, models, caches."
    )
    database_url: str | None = Field(
        None, description="SQLAlchemy URL; default sqlite:///<data_dir>/movierec.sqlite3."
    )
    movielens_dir: Path | None = Field(
        None, description="MovieLens CSV folder; default <data_dir>/movielens."
    )
    models_dir: Path | None = Field(None, description="Model artifacts; default <data_dir>/models.")
    models_keep: int = Field(
        3, ge=1, description="Artifacts `movierec train` keeps; older ones are removed."
    )
    model_check_seconds: float = Field(
        2.0,
        gt=0,
        description="How often each server worker checks LATEST and switches to a new model.",
    )

    host: str = "127.0.0.1"
    port: int = Field(5000, ge=1, le=65535)
    workers: int = Field(
        2,
        ge=1,
        le=64,
        description="uvicorn worker processes; serving is stateless, so any number agree. "
        "Two use both cores of the reference machine (bench/api_load.py).",
    )
    log_level: str = "info"
    recommendation_cache_entries: int = Field(
        4096,
        ge=0,
        description="Users' ranked recommendation lists each worker keeps (least recently used "
        "out; about 4.3 KB each, so the default is about 18 MB a worker; 0 turns it off). Kept "
        "per model and per exact ratings and watchlist, so never stale.",
    )

    secret_key: str | None = Field(
        None, description="Token signing secret; default generated once into <data_dir>/secret.key."
    )
    token_ttl_seconds: int = Field(7 * 24 * 3600, ge=60)
    legacy_api: bool = Field(True, description="Serve the original iOS app's REST endpoints.")
    web_dir: Path | None = Field(
        None, description="Static web app served at /; default the one shipped in graph/web."
    )
    login_failures_per_username: int = Field(
        5, ge=1, description="Failed logins per username per window before TooManyAttempts."
    )
    login_failures_per_address: int = Field(
        20, ge=1, description="Failed logins per client address per window."
    )
    login_window_seconds: int = Field(300, ge=1, description="Failed-login window, seconds.")
    signups_per_address: int = Field(
        10, ge=1, description="Sign-up attempts (taken names included) per address per window."
    )
    signup_window_seconds: int = Field(3600, ge=1, description="Sign-up window, seconds.")
    trusted_proxies: str = Field(
        "",
        description="Reverse proxies whose X-Forwarded-For/-Proto headers are believed: "
        "comma-separated IPs or networks, or '*'. Default none: the client address (the key "
        "of the per-address limits) is always the TCP peer's.",
    )
    request_deadline_seconds: float = Field(
        5.0, gt=0, description="Seconds a GraphQL request (a whole batch) may take: then TIMEOUT."
    )

    tmdb_api_token: str | None = Field(
        None,
        validation_alias=AliasChoices("TMDB_API_TOKEN", "MOVIEREC_TMDB_API_TOKEN"),
        description="TMDB v4 read token; without it the catalog uses combined_movies.csv.",
    )
    tmdb_base_url: str = "https://api.themoviedb.org"
    grouplens_url: str = Field(
        "https://files.grouplens.org/datasets/movielens",
        description="Where `movierec data download` fetches <dataset>.zip and its .md5.",
    )

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'movierec.sqlite3'}"

    @property
    def resolved_movielens_dir(self) -> Path:
        return self.movielens_dir or self.data_dir / "movielens"

    @property
    def resolved_models_dir(self) -> Path:
        return self.models_dir or self.data_dir / "models"

    @property
    def cache_dir(self) -> Path:
        return self.data_dir / "cache"

    @property
    def report_dir(self) -> Path:
        return self.data_dir / "report"

    @property
    def evaluation_dir(self) -> Path:
        return self.data_dir / "evaluation"
