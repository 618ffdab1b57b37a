"""Steps the browser tests share, written the way a user sees the page (roles and labels)."""

from __future__ import annotations

import re
from collections.abc import Callable

from playwright.sync_api import Locator, Page, Response, expect

DEMO_PASSWORD = "pass"
# The sizes every screen is shot and checked at: a phone (390×844) and a laptop.
DEVICES = [("phone", 390, 844), ("desktop", 1280, 800)]


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


SESSION_KEY = "movierec.session"


def session_token(page: Page) -> str | None:
    """The token the app keeps in localStorage (shared by the site's tabs), or None."""
    return page.evaluate(
        "key => JSON.parse(localStorage.getItem(key) ?? 'null')?.token ?? null", SESSION_KEY
    )


def store_session(page: Page, token: str, *, expires_in_s: float = 3600, user_id: int = 0) -> None:
    """Puts a session in localStorage the way the app does after signing in."""
    page.evaluate(
        """([key, token, expiresIn, userId]) => localStorage.setItem(key, JSON.stringify(
            { token, expiresAt: Date.now() + expiresIn * 1000, userId }))""",
        [SESSION_KEY, token, expires_in_s, user_id],
    )


def api(page: Page, query: str) -> dict:
    """Runs a GraphQL query as the page's signed-in user (its session token) and returns data."""
    body = page.evaluate(
        """async ([query, token]) => {
            const response = await fetch('/graphql', {
                method: 'POST',
                headers: { 'Content-Type': 'application/json', Authorization: 'Bearer ' + token },
                body: JSON.stringify({ query }),
            });
            return response.json();
        }""",
        [query, session_token(page)],
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


# WCAG 2.2 contrast (1.4.3, AA) over the computed styles of every visible text: the text's colour
# against the first opaque background behind it (a gradient counts by its worst stop).
CONTRAST_FAILURES = """
() => {
  const channel = (c) => {
    c /= 255;
    return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  };
  const parse = (text) => {
    const m = text.match(/rgba?\\(([^)]+)\\)/);
    if (!m) return null;
    const [r, g, b, a = 1] = m[1].split(/[ ,/]+/).filter(Boolean).map(Number);
    return { r, g, b, a };
  };
  const luminance = ({ r, g, b }) =>
    0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
  const ratio = (x, y) => {
    const [hi, lo] = [luminance(x), luminance(y)].sort((p, q) => q - p);
    return (hi + 0.05) / (lo + 0.05);
  };
  const backgrounds = (node) => {
    for (let n = node; n; n = n.parentElement) {
      const style = getComputedStyle(n);
      const stops = [...style.backgroundImage.matchAll(/rgba?\\([^)]+\\)/g)]
        .map((m) => parse(m[0]));
      if (stops.length) return stops;
      const colour = parse(style.backgroundColor);
      if (colour && colour.a >= 0.9) return [colour];
    }
    return [parse(getComputedStyle(document.body).backgroundColor)];
  };
  const failures = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let text = walker.nextNode(); text; text = walker.nextNode()) {
    const node = text.parentElement;
    const visible = node.checkVisibility({ opacityProperty: true, visibilityProperty: true });
    if (!text.data.trim() || !visible) continue;
    if (node.closest(".visually-hidden, [aria-hidden=true], :disabled, img")) continue;
    const rect = node.getBoundingClientRect();
    if (rect.width < 2 || rect.height < 2) continue;
    const style = getComputedStyle(node);
    const fg = parse(style.color);
    const size = parseFloat(style.fontSize);
    const large = size >= 24 || (size >= 18.66 && Number(style.fontWeight) >= 700);
    const needed = large ? 3 : 4.5;
    for (const bg of backgrounds(node)) {
      const got = ratio(fg, bg);
      if (got < needed) {
        failures.push(`${text.data.trim().slice(0, 40)}: ${got.toFixed(2)} < ${needed}`);
        break;
      }
    }
  }
  return failures;
}
"""


def contrast_failures(page: Page) -> list[str]:
    """Texts on the page below WCAG 2.2 AA contrast, each with its ratio; empty when all pass."""
    return page.evaluate(CONTRAST_FAILURES)
