"""The token check's one statement: whose token it is, unless signed out, with the version of
their ranking inputs read on the way (what the viewer's cached recommendations are checked
against), on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from data.ratings import ranking_version, remove_rating, set_rating
from data.tokens import Holder, revoke_token, token_holder
from tests.data.rows import seeded_store


@pytest.fixture
def store(url: str) -> Iterator[Engine]:
    engine = seeded_store(url, [1, 2], [1, 2])
    yield engine
    engine.dispose()


def test_the_holder_comes_with_the_version_every_rating_write_changes(store: Engine) -> None:
    with store.begin() as conn:
        assert token_holder(1, "jti-1")(conn) == Holder("user1", None)  # nothing rated yet
        set_rating(conn, 1, 2, 4.0, 100)
        first = token_holder(1, "jti-1")(conn)
        assert first is not None
        assert first.ranking_version is not None
        assert first.ranking_version == ranking_version(1)(conn)
        remove_rating(conn, 1, 2)
        second = token_holder(1, "jti-1")(conn)
        assert second is not None
        assert second.ranking_version == ranking_version(1)(conn) != first.ranking_version
        assert token_holder(2, "jti-2")(conn) == Holder("user2", None)  # another user's


def test_no_holder_for_a_signed_out_token_or_a_missing_user(store: Engine) -> None:
    with store.begin() as conn:
        set_rating(conn, 1, 1, 3.5, 100)
        revoke_token(conn, "signed-out", expires_at=2_000_000_000)
        assert token_holder(1, "signed-out")(conn) is None
        assert token_holder(1, "still-in")(conn) is not None
        assert token_holder(99, "still-in")(conn) is None
