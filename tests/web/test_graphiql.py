"""GraphiQL at /graphql in Chromium, with every other host unreachable: it renders and runs
(screenshots at phone and desktop size in test-artifacts/)."""

from __future__ import annotations

import json

import httpx
import pytest
from playwright.sync_api import ConsoleMessage, Page, Request, Response, expect

from tests.web.conftest import ARTIFACTS, Server
from tests.web.steps import DEMO_PASSWORD, DEVICES

pytestmark = [pytest.mark.browser, pytest.mark.movielens]


def open_graphiql(page: Page, server: Server) -> tuple[list[str], list[str]]:
    """Opens the IDE; returns the lists that collect other-host requests and console errors."""
    elsewhere: list[str] = []
    console_errors: list[str] = []

    def note_request(request: Request) -> None:
        if not request.url.startswith(f"{server.url}/"):
            elsewhere.append(request.url)

    def note_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            console_errors.append(message.text)

    page.on("request", note_request)
    page.on("console", note_console)
    page.goto(f"{server.url}/graphql")
    expect(page.get_by_role("button", name="Execute query (Ctrl-Enter)")).to_be_visible()
    return elsewhere, console_errors


def set_editor(page: Page, label: str, text: str) -> None:
    """Replaces an editor's text the way a paste would (no auto-closed brackets or quotes)."""
    page.get_by_role("region", name=label).locator(".CodeMirror").locator("visible=true").click()
    page.keyboard.press("ControlOrMeta+a")
    page.keyboard.insert_text(text)


def run_and_read(page: Page, server: Server, query: str) -> dict:
    """Runs the editor's `query`; returns the server's JSON once GraphiQL shows it.

    Waits for the answer to this very query: GraphiQL also posts its own schema introspection
    to /graphql, whenever it likes, and on a loaded machine that may come first.
    """

    def is_the_query(response: Response) -> bool:
        request = response.request
        return (
            response.url == f"{server.url}/graphql"
            and request.method == "POST"
            and (request.post_data_json or {}).get("query") == query
        )

    with page.expect_response(is_the_query) as response:
        page.get_by_role("button", name="Execute query (Ctrl-Enter)").click()
    body = response.value.json()
    result = page.get_by_label("Result Window")
    expect(result).to_contain_text(json.dumps(body, indent=2).splitlines()[2].strip())
    return body


def test_graphiql_renders_offline_and_runs_a_query(page: Page, server: Server) -> None:
    elsewhere, console_errors = open_graphiql(page, server)
    set_editor(page, "Query Editor", "{ genres }")
    body = run_and_read(page, server, "{ genres }")

    genres = body["data"]["genres"]
    assert len(genres) > 1
    result = page.get_by_label("Result Window")
    for genre in (genres[0], genres[-1]):
        expect(result).to_contain_text(f'"{genre}"')
    # The explorer plugin is there and knows the schema.
    page.get_by_role("button", name="Show GraphiQL Explorer").click()
    expect(page.locator(".graphiql-explorer-root")).to_contain_text("genres")
    assert elsewhere == [], "nothing may be fetched from another host"
    assert console_errors == [], "no CSP violation or other error in the console (a 404 included)"
    assert (
        page.evaluate("() => document.querySelector('meta[name=viewport]').content")
        == "width=device-width, initial-scale=1"
    )
    page.get_by_role("button", name="Hide GraphiQL Explorer").click()
    ARTIFACTS.mkdir(exist_ok=True)
    for device, width, height in DEVICES:
        page.set_viewport_size({"width": width, "height": height})
        expect(page.get_by_role("button", name="Execute query (Ctrl-Enter)")).to_be_visible()
        page.screenshot(path=ARTIFACTS / f"screen-{device}-graphiql.png", full_page=True)


def test_a_bearer_token_in_the_headers_editor_signs_the_query_in(
    page: Page, server: Server
) -> None:
    login = httpx.post(
        f"{server.url}/graphql",
        json={
            "query": 'mutation($p: String!) { login(username: "user3", password: $p) '
            "{ ... on AuthPayload { token } } }",
            "variables": {"p": DEMO_PASSWORD},
        },
    ).json()
    token = login["data"]["login"]["token"]
    open_graphiql(page, server)

    query = "{ viewer { username } }"
    set_editor(page, "Query Editor", query)
    assert run_and_read(page, server, query) == {"data": {"viewer": None}}

    page.get_by_role("button", name="Headers").click()
    set_editor(page, "Headers", json.dumps({"Authorization": f"Bearer {token}"}))
    assert run_and_read(page, server, query) == {"data": {"viewer": {"username": "user3"}}}
    expect(page.get_by_label("Result Window")).to_contain_text('"username": "user3"')
