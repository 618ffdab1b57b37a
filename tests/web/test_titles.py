"""Display titles in the web app: "The Godfather", not "Godfather, The"; card titles of two lines
at most; placeholders that wrap between words, never inside one ("Redemptio n" on phones)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.web.conftest import ARTIFACTS, Server
from tests.web.steps import DEVICES, contrast_failures, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.movielens]


# Per element: the words whose glyphs lie on more than one line (a word broken inside).
BROKEN_WORDS = """
(node) => {
  const text = node.firstChild;
  const broken = [];
  for (const match of text.data.matchAll(/\\S+/g)) {
    const range = document.createRange();
    range.setStart(text, match.index);
    range.setEnd(text, match.index + match[0].length);
    const tops = new Set([...range.getClientRects()].map((r) => Math.round(r.top)));
    if (tops.size > 1) broken.push(match[0]);
  }
  return broken;
}
"""

# Lines a clamped title takes, and whether it holds more than it shows.
CLAMP = """
(node) => {
  const style = getComputedStyle(node);
  return {
    lines: node.getBoundingClientRect().height / parseFloat(style.lineHeight),
    clipped: node.scrollHeight > node.clientHeight + 1,
  };
}
"""


def _results(page: Page, server: Server, query: str) -> Locator:
    page.goto(f"{server.url}/#/search?q={query}")
    expect(page.locator(".count")).to_contain_text("movie")
    cards = page.locator(".paged article.card")
    expect(cards.first).to_be_visible()
    return cards


@pytest.mark.parametrize(("device", "width", "height"), DEVICES)
def test_titles_read_naturally_clamp_and_wrap_between_words(
    page: Page, server: Server, device: str, width: int, height: int
) -> None:
    page.set_viewport_size({"width": width, "height": height})
    sign_in(page, server.url, "user24")

    cards = _results(page, server, "shawshank")
    card = page.locator('.paged article.card[data-movie-id="318"]')
    expect(card.locator(".card-title")).to_have_text("The Shawshank Redemption")
    # TMDB's images are blocked in these tests, so every poster shows its title placeholder.
    placeholder = card.locator(".picture-fallback-text")
    expect(placeholder).to_have_text("The Shawshank Redemption")
    assert placeholder.evaluate(BROKEN_WORDS) == []

    # The longest display titles of the catalogue: two lines on the card, the rest elided.
    cards = _results(page, server, "adventures of sherlock holmes and d")
    expect(cards).not_to_have_count(0)
    clamped = [title.evaluate(CLAMP) for title in cards.locator(".card-title").all()]
    assert all(round(c["lines"]) <= 2 for c in clamped), clamped
    assert any(c["clipped"] for c in clamped), "a title this long is cut at two lines"
    for text in cards.locator(".picture-fallback-text").all():
        assert text.evaluate(BROKEN_WORDS) == [], text.text_content()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / f"screen-{device}-long-titles.png", full_page=True)
    assert contrast_failures(page) == []

    page.goto(f"{server.url}/#/movie/47")
    expect(page.get_by_role("heading", level=1)).to_have_text("Seven")
    expect(page.locator(".aka")).to_have_text("Also known as Se7en")
    expect(page).to_have_title("Seven – movierec")
    assert page.locator(".backdrop .picture-fallback-text").evaluate(BROKEN_WORDS) == []
    page.screenshot(path=ARTIFACTS / f"screen-{device}-movie-aka.png", full_page=True)
    assert contrast_failures(page) == []

    page.goto(f"{server.url}/#/movie/858")
    expect(page.get_by_role("heading", level=1)).to_have_text("The Godfather")
    expect(page.locator(".aka")).to_have_count(0)
