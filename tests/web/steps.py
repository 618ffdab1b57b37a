"""Steps the browser tests share, written the way a user sees the page (roles and labels)."""

from __future__ import annotations

import re
from collections.abc import Callable

from playwright.sync_api import Locator, Page, Response, expect

DEMO_PASSWORD = "pass"


def sign_in(page: Page, base_url: str, username: str, password: str = DEMO_PASSWORD) -> None:
    """Signs in through the Login form and waits for Home."""
    page.goto(f"{base_url}/")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{base_url}/#/home")


def row(page: Page, heading: str) -> Locator:
    """A row of movie cards, found by its heading."""
    return page.get_by_role("region", name=heading, exact=True)


def loaded_movie_ids(section: Locator) -> list[int]:
    """The movie ids of a row's cards, in order, once the row has finished loading."""
    expect(section.locator(".row-body")).not_to_have_attribute("aria-busy", "true")
    expect(section.locator("article.card").first).to_be_visible()
    return [
        int(x)
        for x in section.locator("article.card").evaluate_all(
            "cards => cards.map(c => c.dataset.movieId)"
        )
    ]


def session_token(page: Page) -> str | None:
    return page.evaluate("() => sessionStorage.getItem('movierec.token')")


def api(page: Page, query: str) -> dict:
    """Runs a GraphQL query as the page's signed-in user (its session token) and returns data."""
    body = page.evaluate(
        """async (query) => {
            const response = await fetch('/graphql', {
                method: 'POST',
                headers: {
                    'Content-Type': 'application/json',
                    Authorization: 'Bearer ' + sessionStorage.getItem('movierec.token'),
                },
                body: JSON.stringify({ query }),
            });
            return response.json();
        }""",
        query,
    )
    assert "errors" not in body, body
    return body["data"]


def answer_to(operation: str) -> Callable[[Response], bool]:
    """Matches the /graphql response to the app's operation `operation` (e.g. "Login").

    For `page.expect_response`: waiting for "the next /graphql response" may catch another
    request (a row loading, GraphiQL's schema) on a loaded machine.
    """
    named = re.compile(rf"\b(query|mutation)\s+{re.escape(operation)}\b")

    def matches(response: Response) -> bool:
        request = response.request
        return (
            response.url.endswith("/graphql")
            and request.method == "POST"
            and bool(named.search((request.post_data_json or {}).get("query", "")))
        )

    return matches
