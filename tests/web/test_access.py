"""Keyboard use and phone/desktop layouts, against the real server and data."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.web.conftest import ARTIFACTS, Server
from tests.web.steps import DEVICES, answer_to, api, loaded_movie_ids, row, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.movielens]

MAX_TABS = 12


def _tab_until(page: Page, selector: str) -> None:
    """Presses Tab until the focused element matches `selector`; fails if it never does."""
    for _ in range(MAX_TABS):
        page.keyboard.press("Tab")
        if page.evaluate("s => document.activeElement.matches(s)", selector):
            return
    pytest.fail(f"{selector} not reached with {MAX_TABS} presses of Tab")


def _focus_ring_width(page: Page) -> float:
    return page.evaluate(
        """() => {
            const style = getComputedStyle(document.activeElement);
            return style.outlineStyle === 'none' ? 0 : parseFloat(style.outlineWidth);
        }"""
    )


def test_keyboard_alone_signs_in_opens_a_movie_and_rates_it(page: Page, server: Server) -> None:
    page.goto(f"{server.url}/")
    expect(page.get_by_label("Username")).to_be_focused()
    page.keyboard.type("user2")
    page.keyboard.press("Tab")
    expect(page.get_by_label("Password")).to_be_focused()
    page.keyboard.type("pass")
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{server.url}/#/home")
    loaded_movie_ids(row(page, "Movies you have watched"))

    _tab_until(page, "a.card-link")
    assert _focus_ring_width(page) > 0
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"#/movie/\d+$"))
    movie_id = int(page.url.rsplit("/", 1)[1])
    expect(page.locator(".stats")).to_be_visible()

    # Tab enters the rating group on its checked star, or on the first when there is none;
    # arrow keys then move, wrapping around after 5 stars like any radio group, but only choose:
    # Enter saves the value arrowed to, once.
    _tab_until(page, "input[type=radio]")
    assert _focus_ring_width(page) > 0
    query = f"{{ movie(id: {movie_id}) {{ viewerRating }} }}"
    before = api(page, query)["movie"]["viewerRating"]
    start = float(page.evaluate("() => document.activeElement.value"))
    saves: list[str] = []
    page.on(
        "request",
        lambda r: saves.append(r.url) if "mutation RateMovie" in (r.post_data or "") else None,
    )
    presses = 6
    for _ in range(presses):
        page.keyboard.press("ArrowRight")
    expected = ((start / 0.5 - 1 + presses) % 10 + 1) * 0.5
    expect(page.locator(".rating-status")).to_have_text(f"{expected:g} stars: press Enter to save")
    assert api(page, query)["movie"]["viewerRating"] == before, "arrows alone save nothing"
    with page.expect_response(answer_to("RateMovie")) as saved:
        page.keyboard.press("Enter")
    assert saved.value.json()["data"]["rateMovie"]["rating"] == expected
    expect(page.locator(".rating-status")).to_have_text(f"You rated this {expected:g} of 5")
    stored = api(page, query)["movie"]["viewerRating"]
    assert stored == expected, "the value arrowed to is the one stored"
    assert len(saves) == 1, "one save for six arrow presses and Enter"

    # Space saves too, and leaving the group with an unsaved choice puts the saved value back.
    page.keyboard.press("ArrowLeft")
    lower = expected - 0.5 if expected > 0.5 else 5.0
    with page.expect_response(answer_to("RateMovie")) as saved:
        page.keyboard.press(" ")
    assert saved.value.json()["data"]["rateMovie"]["rating"] == lower
    expect(page.locator(".rating-status")).to_have_text(f"You rated this {lower:g} of 5")
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("Tab")
    expect(page.locator(".rating-status")).to_have_text(f"You rated this {lower:g} of 5")
    expect(page.locator(f'input[type=radio][value="{lower:g}"]')).to_be_checked()
    assert len(saves) == 2


@pytest.mark.parametrize(("device", "width", "height"), DEVICES)
def test_screens_fit_the_window_and_show_title_placeholders(
    page: Page, server: Server, device: str, width: int, height: int
) -> None:
    page.set_viewport_size({"width": width, "height": height})
    sign_in(page, server.url, "user3")
    recommended = row(page, "Recommended for you")
    loaded_movie_ids(recommended)
    _assert_no_sideways_page_scroll(page)
    strip = recommended.locator("ul.row")
    assert strip.evaluate("u => u.scrollWidth > u.clientWidth"), "rows scroll sideways"

    # TMDB's image host is unreachable here: every card shows its title instead of an image.
    first = recommended.locator("article.card").first
    title = first.locator(".card-title").text_content()
    expect(first.locator(".picture-fallback")).to_have_text(title)
    expect(first.locator(".picture-fallback")).to_be_visible()
    expect(page.locator(".picture.is-loaded")).to_have_count(0)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / f"layout-{device}-home.png", full_page=True)

    first.get_by_role("link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(title)
    expect(page.locator(".picture.backdrop .picture-fallback")).to_have_text(title)
    _assert_no_sideways_page_scroll(page)
    page.screenshot(path=ARTIFACTS / f"layout-{device}-movie.png", full_page=True)


def _assert_no_sideways_page_scroll(page: Page) -> None:
    overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the page is {overflow}px wider than the window"


# The smallest valid PNG (1x1, transparent): stands in for TMDB's pictures when one should load.
PIXEL_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


def test_movie_picture_falls_back_from_backdrop_to_poster(page: Page, server: Server) -> None:
    sign_in(page, server.url, "user6")
    movie = api(page, "{ movie(id: 1) { title posterUrl backdropUrl } }")["movie"]
    assert movie["posterUrl"], "Toy Story has a poster in the real data"
    page.route(
        "https://image.tmdb.org/**",
        lambda route: (
            route.fulfill(body=PIXEL_PNG, content_type="image/png")
            if route.request.url == movie["posterUrl"].replace("/w342/", "/w500/")
            else route.abort("internetdisconnected")
        ),
    )
    page.goto(f"{server.url}/#/movie/1")
    expect(page.get_by_role("heading", level=1)).to_have_text(movie["title"])
    backdrop = page.locator(".picture.backdrop")
    expect(backdrop).to_have_class(re.compile(r"\bis-loaded\b"))
    assert "/w500/" in backdrop.locator("img").get_attribute("src")
