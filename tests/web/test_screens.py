"""Every screen at phone and desktop size: screenshots, contrast, touch targets, Tab stops, and the
smaller defects of issue 13 (not-found ids, Back, Home's scroll, onboarding on a phone, skeletons).

The screenshots go to test-artifacts/screen-<device>-<screen>.png on every run, for a reviewer.
"""

from __future__ import annotations

import re
import secrets

import pytest
from playwright.sync_api import Page, Route, expect

from tests.web.conftest import ARTIFACTS, Server
from tests.web.steps import DEVICES, contrast_failures, loaded_movie_ids, row, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.movielens]

TARGET_PX = 44


def _shoot(page: Page, device: str, screen: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / f"screen-{device}-{screen}.png", full_page=True)
    assert contrast_failures(page) == [], f"{screen} at {device} size"


def _sign_up(page: Page, server: Server) -> str:
    username = f"web_{secrets.token_hex(4)}"
    page.goto(f"{server.url}/#/signup")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("a good long password")
    page.get_by_role("button", name="Create account").click()
    expect(page).to_have_url(f"{server.url}/#/onboarding")
    return username


def _star_sizes(page: Page) -> list[tuple[float, float]]:
    return page.locator(".star").evaluate_all(
        "stars => stars.map(s => [s.getBoundingClientRect().width, "
        "s.getBoundingClientRect().height])"
    )


@pytest.mark.parametrize(("device", "width", "height"), DEVICES)
def test_every_screen_is_shot_and_meets_aa_contrast(
    page: Page, server: Server, device: str, width: int, height: int
) -> None:
    page.set_viewport_size({"width": width, "height": height})
    page.goto(f"{server.url}/#/login")
    expect(page.get_by_label("Username")).to_be_focused()
    _shoot(page, device, "login")
    page.get_by_role("link", name="Create an account").click()
    expect(page.get_by_role("heading", name="Create your account")).to_be_visible()
    _shoot(page, device, "signup")

    _sign_up(page, server)
    expect(page.get_by_role("list", name="Popular movies").locator("article.card")).to_have_count(
        24
    )
    first = page.get_by_role("list", name="Popular movies").locator("article.card").first
    # On a phone too, the first screen shows a movie to rate, stars included.
    assert first.locator(".stars").bounding_box()["y"] < height
    for star_width, star_height in _star_sizes(page):
        assert star_width >= TARGET_PX
        assert star_height >= TARGET_PX
    _shoot(page, device, "onboarding")

    page.get_by_role("link", name="Continue to Home").click()
    loaded_movie_ids(row(page, "Recommended for you"))
    _shoot(page, device, "home")

    page.goto(f"{server.url}/#/movie/1")
    expect(page.locator(".stats")).to_be_visible()
    loaded_movie_ids(row(page, "Similar movies"))
    for star_width, star_height in _star_sizes(page):
        assert star_width >= TARGET_PX
        assert star_height >= TARGET_PX
    _shoot(page, device, "movie")

    page.goto(f"{server.url}/#/search?q=toy")
    expect(page.locator(".count")).to_contain_text("movies")
    _shoot(page, device, "search")

    for screen in ("ratings", "featured", "trending", "newly-added", "recommended"):
        page.goto(f"{server.url}/#/{screen}")
        expect(page.locator(".paged")).not_to_have_attribute("aria-busy", "true")
        _shoot(page, device, screen)

    page.goto(f"{server.url}/#/profile")
    expect(page.locator('[data-field="username"]')).to_be_visible()
    _shoot(page, device, "profile")

    page.goto(f"{server.url}/#/movie/99999999999")
    expect(page.get_by_role("heading", level=1)).to_have_text("Movie not found")
    _shoot(page, device, "not-found")

    # The check itself sees a failure: grey on the dark background.
    page.evaluate(
        "() => document.querySelector('main').append(Object.assign("
        "document.createElement('p'), { textContent: 'faint', style: 'color: #444' }))"
    )
    [failure] = contrast_failures(page)
    assert failure.startswith("faint: 1.9")
    assert failure.endswith(" < 4.5")


def test_home_rows_are_one_tab_stop_each_and_arrows_move_within(page: Page, server: Server) -> None:
    sign_in(page, server.url, "user18")
    watched = row(page, "Movies you have watched")
    recommended = row(page, "Recommended for you")
    watched_ids = loaded_movie_ids(watched)
    loaded_movie_ids(recommended)
    page.get_by_role("heading", name="Home").focus()

    stops = []
    for _ in range(9):
        page.keyboard.press("Tab")
        stops.append(
            page.evaluate(
                """() => {
                    const a = document.activeElement;
                    const section = a.closest('section[aria-labelledby]');
                    return [section ? section.querySelector('h2').textContent : '',
                            a.getAttribute('aria-label') || a.textContent.trim()];
                }"""
            )
        )
        if page.evaluate("() => document.activeElement.matches('.chip')"):
            break
    first_watched = watched.locator("a.card-link").first.text_content().strip()
    first_recommended = recommended.locator("a.card-link").first.text_content().strip()
    assert stops == [
        ["Movies you have watched", "See all movies you have rated"],
        ["Movies you have watched", first_watched],
        ["Recommended for you", "See all movies recommended for you"],
        ["Recommended for you", first_recommended],
        ["", "Featured"],
    ], "one stop per row, then the chips"

    # Back in the watched row, arrows move from card to card and Tab leaves the row.
    for _ in range(3):  # past the recommended row and its See all
        page.keyboard.press("Shift+Tab")
    expect(watched.locator("a.card-link").first).to_be_focused()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    expect(watched.locator("a.card-link").nth(2)).to_be_focused()
    page.keyboard.press("End")
    expect(watched.locator("a.card-link").nth(len(watched_ids) - 1)).to_be_focused()
    page.keyboard.press("Tab")
    expect(
        recommended.get_by_role("link", name="See all movies recommended for you")
    ).to_be_focused()
    page.keyboard.press("Tab")
    expect(recommended.locator("a.card-link").first).to_be_focused()


@pytest.mark.parametrize("width", [390, 360])
def test_the_header_is_two_lines_on_a_phone(page: Page, server: Server, width: int) -> None:
    """Brand and links share the first line, the search box has the second; the sticky bar
    stays within the page's scroll padding, so Tab never moves focus under it."""
    page.set_viewport_size({"width": width, "height": 844})
    sign_in(page, server.url, "user31")
    loaded_movie_ids(row(page, "Recommended for you"))

    def box(selector: str) -> dict[str, float]:
        return page.locator(selector).bounding_box()

    brand, nav, search, bar = box(".brand"), box(".topbar nav"), box(".search-box"), box(".topbar")
    assert nav["y"] + nav["height"] <= search["y"], "the links are above the search box"
    assert brand["y"] + brand["height"] <= search["y"], "the brand is above the search box"
    assert brand["x"] + brand["width"] <= nav["x"], "the brand is beside the links"
    assert search["width"] >= width - 32, "the search box has the second line to itself"
    padding = page.evaluate(
        "() => parseFloat(getComputedStyle(document.documentElement).scrollPaddingTop)"
    )
    assert bar["height"] <= padding
    for link in page.locator(".topbar nav a").all():
        link_box = link.bounding_box()
        assert link_box["width"] >= TARGET_PX
        assert link_box["height"] >= TARGET_PX
    assert page.evaluate("() => document.documentElement.scrollWidth") == width


def test_the_chips_show_that_more_exist_and_scroll_to_them(page: Page, server: Server) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, server.url, "user19")
    chips = page.get_by_role("group", name="Browse movies")
    expect(chips.get_by_role("button", name="Western")).to_be_attached()  # genres loaded
    frame = page.locator(".chips-frame")
    expect(frame).to_have_class(re.compile(r"\bmore-after\b"))
    expect(frame).not_to_have_class(re.compile(r"\bmore-before\b"))
    more = frame.locator(".chips-more.after")
    expect(more).to_be_visible()
    box = more.bounding_box()
    assert box["width"] >= TARGET_PX
    assert box["height"] >= TARGET_PX
    more.click()
    expect(frame).to_have_class(re.compile(r"\bmore-before\b"))
    expect(frame.locator(".chips-more.before")).to_be_visible()


def test_an_out_of_range_id_is_a_friendly_not_found(page: Page, server: Server) -> None:
    sign_in(page, server.url, "user20")
    for movie_id in ("99999999999", "2147483647", "0"):
        page.goto(f"{server.url}/#/movie/{movie_id}")
        expect(page.get_by_role("heading", level=1)).to_have_text("Movie not found")
        expect(page.get_by_text("No movie has this number.")).to_be_visible()
        expect(page.get_by_role("button", name="Try again")).to_have_count(0)
        expect(page.get_by_role("alert")).to_have_count(0)


def test_back_returns_to_the_movie_the_user_came_from(page: Page, server: Server) -> None:
    sign_in(page, server.url, "user21")
    tab = page.context.new_page()  # a link opened in a new tab: no page of ours before it
    tab.goto(f"{server.url}/#/movie/1")
    expect(tab.get_by_role("link", name="← Home")).to_be_visible()
    similar = loaded_movie_ids(row(tab, "Similar movies"))
    row(tab, "Similar movies").locator(f'article[data-movie-id="{similar[0]}"] a').click()
    expect(tab).to_have_url(f"{server.url}/#/movie/{similar[0]}")
    tab.get_by_role("link", name="← Back").click()
    expect(tab).to_have_url(f"{server.url}/#/movie/1")
    expect(tab.get_by_role("link", name="← Home")).to_be_visible()

    # From Home, Back returns Home.
    page.goto(f"{server.url}/#/movie/{similar[0]}")
    page.get_by_role("link", name="← Back").click()
    expect(page).to_have_url(f"{server.url}/#/home")


def test_back_to_home_restores_its_scroll(page: Page, server: Server) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, server.url, "user22")
    featured = row(page, "Featured")
    loaded_movie_ids(featured)
    loaded_movie_ids(row(page, "Movies you have watched"))
    loaded_movie_ids(row(page, "Recommended for you"))
    card = featured.locator("a.card-link").first
    card.scroll_into_view_if_needed()
    page.wait_for_function("() => window.scrollY > 300")
    scrolled = page.evaluate("() => window.scrollY")
    card.click()
    expect(page).to_have_url(re.compile(r"#/movie/\d+$"))
    page.go_back()
    expect(page).to_have_url(f"{server.url}/#/home")
    page.wait_for_function("y => window.scrollY === y", arg=scrolled)


def test_rows_show_skeletons_while_loading(page: Page, server: Server) -> None:
    def never_answer_recommendations(route: Route) -> None:
        if "query Recommended" not in (route.request.post_data or ""):
            route.fallback()
        # else: left unanswered, so the row stays in its loading state for as long as we look

    page.route(f"{server.url}/graphql", never_answer_recommendations)
    sign_in(page, server.url, "user23")
    recommended = row(page, "Recommended for you")
    expect(recommended.locator(".skeleton").first).to_be_visible()
    expect(recommended.locator(".row-body")).to_have_attribute("aria-busy", "true")
    status = recommended.get_by_role("status")
    expect(status).to_have_text("Loading…")  # what a screen reader hears
    expect(status.locator(".visually-hidden")).to_have_text("Loading…")  # and nobody sees
    assert loaded_movie_ids(row(page, "Movies you have watched")), "other rows load meanwhile"
    expect(row(page, "Movies you have watched").locator(".skeleton")).to_have_count(0)
