"""Services answer a refusal with a ``Refusal`` value, and know nothing of GraphQL or HTTP."""

from __future__ import annotations

from pathlib import Path

import pytest

from graph.config import AppConfig
from graph.services.bundle import Services
from graph.services.outcomes import Refusal, Rejected
from tests.conftest import PROJECT_ROOT
from tests.graph.conftest import DEMO_PASSWORD
from tests.test_architecture import imported_modules


@pytest.mark.parametrize(
    ("username", "password", "reason"),
    [
        ("USER1", "long enough", Refusal.USERNAME_TAKEN),
        ("Capital", "long enough", Refusal.INVALID_USERNAME),
        ("fresh_name", "short", Refusal.PASSWORD_TOO_SHORT),
    ],
)
def test_sign_up_refusals(
    services: Services, username: str, password: str, reason: Refusal
) -> None:
    outcome = services.accounts.sign_up(username, password, "10.0.0.1")
    assert isinstance(outcome, Rejected)
    assert outcome.reason is reason
    assert outcome.message


def test_login_refusals(services: Services, config: AppConfig) -> None:
    for _ in range(config.login_failures_per_username):
        outcome = services.accounts.login("user2", "wrong", "10.0.0.1")
        assert outcome == Rejected(
            Refusal.INVALID_CREDENTIALS, "unknown username or wrong password"
        )
    limited = services.accounts.login("user2", DEMO_PASSWORD, "10.0.0.1")
    assert isinstance(limited, Rejected)
    assert limited.reason is Refusal.TOO_MANY_ATTEMPTS
    assert 0 < limited.retry_after_seconds <= config.login_window_seconds


def test_rating_outcomes(services: Services) -> None:
    ratings = services.ratings
    invalid = ratings.rate(1, 1, 4.7)
    assert isinstance(invalid, Rejected)
    assert invalid.reason is Refusal.INVALID_RATING
    assert "4.7" in invalid.message
    assert ratings.rate(1, 987654, 3.0) == Rejected(
        Refusal.MOVIE_NOT_FOUND, "no movie with id 987654"
    )
    assert ratings.remove(1, 987654) == Rejected(Refusal.MOVIE_NOT_FOUND, "no movie with id 987654")
    assert ratings.rate(1, 1, 3.5) is None
    assert ratings.of_movies(1, [1]) == {1: 3.5}
    assert ratings.remove(1, 1) is None
    assert ratings.of_movies(1, [1]) == {}


def test_services_import_nothing_of_graphql_or_http() -> None:
    services = sorted((PROJECT_ROOT / "graph" / "services").glob("*.py"))
    assert services
    found = [
        f"{Path(path).name} imports {module}"
        for path in services
        for module in imported_modules(path)
        if module.split(".")[0] in {"strawberry", "graphql", "fastapi", "starlette"}
        or (
            module.startswith("graph.")
            and not module.startswith(("graph.services", "graph.config"))
        )
    ]
    assert found == []
