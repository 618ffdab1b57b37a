"""Error codes: one ErrorCode enum holds every code the server sends, and the typed user errors
share one interface (UserError) instead of each repeating its fields."""

from __future__ import annotations

import logging
from dataclasses import replace
from threading import Event
from typing import Any

import pytest
from fastapi.testclient import TestClient
from starlette.types import Message, Scope

from graph.accounts.errors import ACCOUNT_ERRORS
from graph.app import create_app
from graph.config import AppConfig
from graph.errors import ErrorCode, UserErrorType
from graph.ratings.errors import RATING_ERRORS
from graph.services.bundle import Services
from graph.services.outcomes import Refusal
from tests.graph.conftest import LOGIN, GraphQL
from tests.graph.test_permissions import run_spy

USER_ERRORS = {
    "InvalidCredentials",
    "TooManyAttempts",
    "UsernameTaken",
    "InvalidUsername",
    "PasswordTooShort",
    "MovieNotFound",
    "InvalidRating",
}

TYPES = """{ __schema { types { name kind fields { name } interfaces { name } } }
  userError: __type(name: "UserError") { kind fields { name type { kind ofType { name } } }
    possibleTypes { name } } }"""


def test_every_typed_error_implements_user_error(gql: GraphQL) -> None:
    data = gql(TYPES)["data"]
    interface = data["userError"]
    assert interface["kind"] == "INTERFACE"
    assert [
        (f["name"], f["type"]["kind"], f["type"]["ofType"]["name"]) for f in interface["fields"]
    ] == [
        ("code", "NON_NULL", "String"),
        ("message", "NON_NULL", "String"),
    ]
    assert {t["name"] for t in interface["possibleTypes"]} == USER_ERRORS
    # Any object with a code and a message is a user error, so none can skip the interface.
    coded = {
        t["name"]
        for t in data["__schema"]["types"]
        if t["kind"] == "OBJECT" and {"code", "message"} <= {f["name"] for f in t["fields"]}
    }
    assert coded == USER_ERRORS
    for type_ in data["__schema"]["types"]:
        if type_["name"] in USER_ERRORS:
            assert type_["interfaces"] == [{"name": "UserError"}], type_["name"]


def test_each_refusal_has_one_typed_error_with_its_own_code() -> None:
    mapping = {**ACCOUNT_ERRORS, **RATING_ERRORS}
    assert set(mapping) == set(Refusal)
    assert len(ACCOUNT_ERRORS) + len(RATING_ERRORS) == len(mapping)  # no refusal mapped twice
    implementations = set(UserErrorType.__subclasses__())
    assert set(mapping.values()) == implementations
    assert {cls.__name__ for cls in implementations} == USER_ERRORS
    codes = [cls.CODE for cls in implementations]
    assert len(set(codes)) == len(codes)
    assert all(isinstance(code, ErrorCode) for code in codes)


def test_a_typed_errors_code_cannot_be_passed_wrong() -> None:
    invalid_rating = RATING_ERRORS[Refusal.INVALID_RATING]
    assert invalid_rating(message="m").code == "INVALID_RATING"
    with pytest.raises(TypeError, match="code"):
        invalid_rating(code="SOMETHING_ELSE", message="m")


def sent_codes(
    gql: GraphQL,
    http: TestClient,
    services: Services,
    config: AppConfig,
    monkeypatch: pytest.MonkeyPatch,
) -> set[str]:
    """Codes the server sends, found by making it send each kind of error once."""
    token = gql.login("user1")
    results = [
        gql("{ recommendations { id } }"),
        gql("{ movies(first: 101) { totalCount } }"),
        gql("{ movie(id: 1) { similar(first: 100) { similar(first: 100) { id } } } }"),
        gql("{ noSuchField }"),
        gql('mutation { signUp(username: "user1", password: "long enough") { ...E } }' + E),
        gql('mutation { signUp(username: "A", password: "long enough") { ...E } }' + E),
        gql('mutation { signUp(username: "fresh", password: "short") { ...E } }' + E),
        gql("mutation { rateMovie(movieId: 1, rating: 9) { ...E } }" + E, token=token),
        gql("mutation { removeRating(movieId: 987654) { ...E } }" + E, token=token),
    ]
    results += [
        gql(LOGIN, {"u": "user2", "p": "wrong"})
        for _ in range(config.login_failures_per_username + 1)
    ]
    bad_request = http.post(
        "/graphql", content=b"null", headers={"content-type": "application/json"}
    )
    results.append(bad_request.json())

    def broken() -> list[str]:
        raise RuntimeError("a bug")

    monkeypatch.setattr(services.catalog, "genres", broken)
    results.append(gql("{ genres }"))
    results.append(run_spy(services, "{ user(id: 3) { ratingCount } }", viewer_id=1))
    results.append(timed_out(services, config, monkeypatch))
    codes: set[str] = set()
    for result in results:
        codes.update(error["extensions"]["code"] for error in result.get("errors", []))
        # A typed error is the mutation's whole answer: {"data": {"signUp": {"code": ...}}}.
        codes.update(answer["code"] for answer in (result.get("data") or {}).values() if answer)
    return codes


E = " fragment E on UserError { code message }"


def timed_out(
    services: Services, config: AppConfig, monkeypatch: pytest.MonkeyPatch
) -> dict[str, Any]:
    """A request whose resolver blocks past a tiny deadline: the whole request is TIMEOUT."""
    release = Event()

    def blocked() -> list[str]:
        release.wait()
        return []

    monkeypatch.setattr(services.catalog, "genres", blocked)
    impatient = replace(config, limits=replace(config.limits, deadline_seconds=0.05))
    try:
        with TestClient(create_app(impatient, services)) as client:
            response = client.post("/graphql", json={"query": "{ genres }"})
    finally:
        release.set()
    assert response.status_code == 503
    result: dict[str, Any] = response.json()
    return result


def test_error_code_lists_exactly_the_codes_the_server_sends(
    gql: GraphQL,
    http: TestClient,
    services: Services,
    config: AppConfig,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sent = sent_codes(gql, http, services, config, monkeypatch)
    assert sent == {code.value for code in ErrorCode}


@pytest.mark.parametrize("path", ["/graphql", "/login"])
def test_a_client_gone_before_its_body_arrived_is_not_a_server_error(
    http: TestClient, path: str, caplog: pytest.LogCaptureFixture
) -> None:
    """wrk and phones close connections mid-body: that is the client's doing, logged as such."""
    messages: list[Message] = [
        {"type": "http.request", "body": b'{"query": "{ __typ', "more_body": True},
        {"type": "http.disconnect"},
    ]
    sent: list[Message] = []

    async def receive() -> Message:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)

    scope: Scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"content-type", b"application/json"), (b"content-length", b"200")],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }
    assert http.portal is not None
    with caplog.at_level(logging.INFO):
        http.portal.call(http.app, scope, receive, send)
    starts = [message for message in sent if message["type"] == "http.response.start"]
    assert [start["status"] for start in starts] == [499]
    assert not [record for record in caplog.records if record.levelno >= logging.ERROR]
    assert any("disconnected" in record.getMessage() for record in caplog.records)
