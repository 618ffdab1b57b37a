"""Tokens and their revocation by logout, per-user isolation and the failed-login limit."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, insert, select

from data.schema import ratings, revoked_tokens, users
from graph.config import AppConfig
from graph.services.tokens import RevokedTokens, SignedIn, TokenSigner
from tests.graph.conftest import LOGIN, GraphQL, error_codes


def sign(secret: str, **overrides: object) -> str:
    """A token for user 1 with the claims the server issues, some replaced or dropped (None)."""
    claims = {
        "sub": "1",
        "aud": "movierec",
        "exp": datetime.now(UTC) + timedelta(minutes=5),
        "jti": "test-token-id",
        **overrides,
    }
    return jwt.encode({k: v for k, v in claims.items() if v is not None}, secret, "HS256")


def test_token_round_trip_and_rejections(config: AppConfig, store: Engine) -> None:
    signer = TokenSigner(config.secret_key, 60, RevokedTokens(store))
    issued = signer.issue(7)
    assert signer.signed_in(issued.token) == SignedIn(7, "user7")
    assert issued.expires_at > datetime.now(UTC)
    other = TokenSigner("another-secret-" + "y" * 40, 60, RevokedTokens(store))
    assert other.signed_in(issued.token) is None
    head, body, signature = issued.token.split(".")
    assert signer.signed_in(f"{head}.{body}.{signature[::-1]}") is None
    assert signer.signed_in("not.a.token") is None
    unsigned = jwt.encode({"sub": "7", "aud": "movierec", "exp": 9999999999}, None, "none")
    assert signer.signed_in(unsigned) is None
    assert signer.signed_in(sign(config.secret_key)) == SignedIn(1, "user1")
    assert signer.signed_in(sign(config.secret_key, jti=None)) is None  # unrevocable: refused
    assert signer.signed_in(sign(config.secret_key, sub="someone")) is None


def test_revoking_is_per_token_and_repeatable(config: AppConfig, store: Engine) -> None:
    signer = TokenSigner(config.secret_key, 60, RevokedTokens(store))
    kept, dropped = signer.issue(7), signer.issue(7)
    assert signer.revoke(dropped.token)
    assert signer.revoke(dropped.token)  # a retried logout is not an error
    assert signer.signed_in(dropped.token) is None
    assert signer.signed_in(kept.token) == SignedIn(7, "user7")
    assert not signer.revoke("not.a.token")
    with store.connect() as conn:
        assert conn.execute(select(func.count()).select_from(revoked_tokens)).scalar_one() == 1


def test_expired_token_signs_nobody_in(gql: GraphQL, config: AppConfig) -> None:
    expired = sign(config.secret_key, exp=datetime.now(UTC) - timedelta(seconds=5))
    assert gql("{ viewer { id } }", token=expired) == {"data": {"viewer": None}}
    assert error_codes(gql("{ recommendations { id } }", token=expired)) == ["UNAUTHENTICATED"]
    assert error_codes(gql("mutation { logout }", token=expired)) == ["UNAUTHENTICATED"]


def test_logout_revokes_the_token_it_was_sent_with(gql: GraphQL, store: Engine) -> None:
    phone, laptop = gql.login(), gql.login()
    assert gql("mutation { logout }", token=phone) == {"data": {"logout": True}}
    assert gql("{ viewer { id } }", token=phone) == {"data": {"viewer": None}}
    assert error_codes(gql("{ recommendations { id } }", token=phone)) == ["UNAUTHENTICATED"]
    rate = "mutation { rateMovie(movieId: 1, rating: 4.0) { __typename } }"
    assert error_codes(gql(rate, token=phone)) == ["UNAUTHENTICATED"]
    assert error_codes(gql("mutation { logout }", token=phone)) == ["UNAUTHENTICATED"]
    # The same user's other session is untouched.
    assert gql("{ viewer { id } }", token=laptop) == {"data": {"viewer": {"id": 1}}}
    assert (
        len(gql("{ recommendations(first: 3) { id } }", token=laptop)["data"]["recommendations"])
        == 3
    )
    assert gql(rate, token=laptop)["data"]["rateMovie"]["__typename"] == "RatingPayload"


@pytest.mark.parametrize(
    "token",
    ["not.a.token", "garbage", "a.b", "Zm9v.YmFy.YmF6"],
)
def test_garbled_tokens_are_unauthenticated(gql: GraphQL, token: str) -> None:
    assert gql("{ viewer { id } }", token=token) == {"data": {"viewer": None}}
    assert error_codes(gql("mutation { logout }", token=token)) == ["UNAUTHENTICATED"]


def test_forged_tokens_are_unauthenticated(gql: GraphQL, config: AppConfig) -> None:
    head, body, signature = gql.login().split(".")
    forgeries = [
        f"{head}.{body}.{signature[::-1]}",  # tampered signature
        sign("another-secret-" + "y" * 40),  # someone else's key
        sign(config.secret_key, aud="elsewhere"),  # minted for another service
        jwt.encode({"sub": "1", "aud": "movierec", "exp": 9999999999, "jti": "x"}, None, "none"),
    ]
    for forged in forgeries:
        assert gql("{ viewer { id } }", token=forged) == {"data": {"viewer": None}}
        assert error_codes(gql("{ recommendations { id } }", token=forged)) == ["UNAUTHENTICATED"]
        assert error_codes(gql("mutation { logout }", token=forged)) == ["UNAUTHENTICATED"]


def test_logout_forgets_revocations_that_expired(gql: GraphQL, store: Engine) -> None:
    now = int(time.time())
    with store.begin() as conn:
        conn.execute(
            insert(revoked_tokens),
            [
                {"jti": "long-expired", "expires_at": now - 10},
                {"jti": "still-valid", "expires_at": now + 3600},
            ],
        )
    assert gql("mutation { logout }", token=gql.login()) == {"data": {"logout": True}}
    with store.connect() as conn:
        left = set(conn.execute(select(revoked_tokens.c.jti)).scalars())
    assert "long-expired" not in left
    assert "still-valid" in left
    assert len(left) == 2  # the one just revoked


def test_short_secret_is_refused(store: Engine) -> None:
    with pytest.raises(ValueError, match="32 characters"):
        TokenSigner("short", 60, RevokedTokens(store))


def test_authorization_header_must_be_bearer(http: TestClient, gql: GraphQL) -> None:
    token = gql.login()
    for header in (token, f"Basic {token}", "Bearer", "Bearer "):
        response = http.post(
            "/graphql", json={"query": "{ viewer { id } }"}, headers={"Authorization": header}
        )
        assert response.json() == {"data": {"viewer": None}}
    response = http.post(
        "/graphql",
        json={"query": "{ viewer { id } }"},
        headers={"Authorization": f"bearer {token}"},
    )
    assert response.json() == {"data": {"viewer": {"id": 1}}}


def test_a_user_reads_and_writes_only_their_own_ratings(gql: GraphQL, store: Engine) -> None:
    token = gql.login("user6")
    query = "{ viewer { id ratings(first: 100) { edges { node { movie { id } } } } } }"
    viewer = gql(query, token=token)["data"]["viewer"]
    with store.connect() as conn:
        own = set(conn.execute(select(ratings.c.movie_id).where(ratings.c.user_id == 6)).scalars())
        others_before = conn.execute(
            select(ratings).where(ratings.c.user_id != 6).order_by(ratings.c.user_id)
        ).all()
    assert viewer["id"] == 6
    assert {edge["node"]["movie"]["id"] for edge in viewer["ratings"]["edges"]} == own
    movie = next(iter(own))
    gql(
        "mutation($m: Int!) { rateMovie(movieId: $m, rating: 0.5) { __typename } }",
        {"m": movie},
        token=token,
    )
    gql(
        "mutation($m: Int!) { removeRating(movieId: $m) { __typename } }", {"m": movie}, token=token
    )
    with store.connect() as conn:
        others_after = conn.execute(
            select(ratings).where(ratings.c.user_id != 6).order_by(ratings.c.user_id)
        ).all()
    assert others_after == others_before


def test_failed_logins_are_limited_per_username(gql: GraphQL, config: AppConfig) -> None:
    for _ in range(config.login_failures_per_username):
        result = gql(LOGIN, {"u": "user2", "p": "wrong"})["data"]["login"]
        assert result["__typename"] == "InvalidCredentials"
    blocked = gql(LOGIN, {"u": "USER2", "p": "pass"})["data"]["login"]
    assert blocked["__typename"] == "TooManyAttempts"
    assert blocked["code"] == "TOO_MANY_ATTEMPTS"
    assert 0 < blocked["retryAfterSeconds"] <= config.login_window_seconds
    assert str(blocked["retryAfterSeconds"]) in blocked["message"]
    assert gql.login("user3")  # other accounts are unaffected


def test_failed_logins_are_limited_per_address(gql: GraphQL, config: AppConfig) -> None:
    for attempt in range(config.login_failures_per_address):
        gql(LOGIN, {"u": f"nobody{attempt}", "p": "wrong"})
    blocked = gql(LOGIN, {"u": "user4", "p": "pass"})["data"]["login"]
    assert blocked["__typename"] == "TooManyAttempts"


def test_passwords_are_stored_hashed(gql: GraphQL, store: Engine) -> None:
    gql('mutation { signUp(username: "hashed", password: "secret password") { __typename } }')
    with store.connect() as conn:
        stored = conn.execute(
            select(users.c.password_hash).where(users.c.username == "hashed")
        ).scalar_one()
    assert stored.startswith("$argon2id$")
    assert "secret password" not in stored


GONE_USER_OPERATIONS = [
    "mutation { rateMovie(movieId: 1, rating: 4) { __typename } }",
    "mutation { removeRating(movieId: 1) { __typename } }",
    "mutation { logout }",
    "{ recommendations(first: 3) { id } }",
]


@pytest.mark.parametrize("operation", GONE_USER_OPERATIONS)
def test_a_token_whose_user_is_gone_is_unauthenticated(
    gql: GraphQL, store: Engine, operation: str
) -> None:
    """An account deleted (or a store rebuilt under the same secret) leaves valid signatures."""
    token = gql(
        'mutation { signUp(username: "leaving", password: "long enough") '
        "{ ... on AuthPayload { token user { id } } } }"
    )["data"]["signUp"]["token"]
    assert gql("{ viewer { username } }", token=token)["data"]["viewer"] == {"username": "leaving"}
    with store.begin() as conn:
        conn.execute(users.delete().where(users.c.username == "leaving"))
    assert gql("{ viewer { username } }", token=token) == {"data": {"viewer": None}}
    result = gql(operation, token=token)
    assert error_codes(result) == ["UNAUTHENTICATED"]
    with store.connect() as conn:
        assert (
            conn.execute(
                select(func.count())
                .select_from(ratings)
                .where(ratings.c.user_id.not_in(select(users.c.id)))
            ).scalar_one()
            == 0
        )


def test_the_signer_refuses_a_token_of_a_user_that_never_existed(
    config: AppConfig, store: Engine
) -> None:
    signer = TokenSigner(config.secret_key, 60, RevokedTokens(store))
    assert signer.signed_in(signer.issue(8).token) == SignedIn(8, "user8")
    assert signer.signed_in(signer.issue(999).token) is None


def test_verified_claims_are_kept_until_the_token_expires(
    config: AppConfig, store: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = [time.time()]
    signer = TokenSigner(config.secret_key, 60, RevokedTokens(store), clock=lambda: now[0])
    issued = signer.issue(7)
    decoded: list[str] = []
    decode = jwt.decode

    def counted(token: str, *args: object, **kwargs: object) -> object:
        decoded.append(token)
        return decode(token, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(jwt, "decode", counted)
    assert signer.signed_in(issued.token) == SignedIn(7, "user7")
    assert signer.signed_in(issued.token) == SignedIn(7, "user7")
    assert decoded == [issued.token]  # the second request took the kept claims
    # Kept claims never outlive the token: refused from the second its `exp` names.
    now[0] = issued.expires_at.timestamp() - 1
    assert signer.signed_in(issued.token) == SignedIn(7, "user7")
    now[0] = issued.expires_at.timestamp()
    assert signer.signed_in(issued.token) is None
    assert decoded == [issued.token]


def test_kept_claims_still_meet_revocation_and_refusals(config: AppConfig, store: Engine) -> None:
    signer = TokenSigner(config.secret_key, 60, RevokedTokens(store))
    issued = signer.issue(7)
    assert signer.signed_in(issued.token) == SignedIn(7, "user7")
    assert signer.revoke(issued.token)
    assert signer.signed_in(issued.token) is None  # the store's look-up runs every time
    head, body, signature = issued.token.split(".")
    forged = f"{head}.{body}.{'B' if signature[0] == 'A' else 'A'}{signature[1:]}"
    assert signer.signed_in(forged) is None
    assert signer.signed_in(forged) is None  # refusals are not kept: checked again, refused
    early = sign(config.secret_key, nbf=datetime.now(UTC) + timedelta(hours=1))
    assert signer.signed_in(early) is None  # not yet valid: not kept either


def test_the_verified_tokens_kept_are_bounded(
    config: AppConfig, store: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("graph.services.tokens.VERIFIED_TOKENS", 3)
    signer = TokenSigner(config.secret_key, 60, RevokedTokens(store))
    tokens = [signer.issue(7).token for _ in range(7)]
    for token in tokens:
        assert signer.signed_in(token) == SignedIn(7, "user7")
        assert len(signer._verified) <= 3
    assert signer.signed_in(tokens[0]) == SignedIn(7, "user7")  # verified again when dropped
