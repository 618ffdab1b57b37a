"""The watchlist in the browser: save from a card and from a movie's page, the Watchlist page and
Home's row, a saved movie leaving the recommendations; screenshots at phone and desktop size."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.web.conftest import ARTIFACTS, Server
from tests.web.steps import (
    DEVICES,
    answer_to,
    api,
    contrast_failures,
    loaded_movie_ids,
    row,
    sign_in,
)

pytestmark = [pytest.mark.browser, pytest.mark.movielens]

TARGET_PX = 44


def _shoot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    for device, width, height in DEVICES:
        page.set_viewport_size({"width": width, "height": height})
        page.screenshot(path=ARTIFACTS / f"screen-{device}-{name}.png", full_page=True)
        assert contrast_failures(page) == [], f"{name} at {device} size"


def test_save_from_a_card_and_unsave_from_the_movie_page(page: Page, server: Server) -> None:
    sign_in(page, server.url, "user26")
    recommended = row(page, "Recommended for you")
    first = loaded_movie_ids(recommended)[0]
    expect(row(page, "Your watchlist").get_by_text("Nothing saved yet.")).to_be_visible()

    save = recommended.locator(f'article[data-movie-id="{first}"] button.save')
    expect(save).to_have_attribute("aria-pressed", "false")
    box = save.bounding_box()
    assert box["width"] >= TARGET_PX
    assert box["height"] >= TARGET_PX
    with page.expect_response(answer_to("Watchlist")) as answered:
        save.click()
    assert answered.value.json()["data"]["add"] == {"__typename": "WatchlistPayload", "saved": True}
    expect(save).to_have_attribute("aria-pressed", "true")
    expect(page).to_have_url(f"{server.url}/#/home")  # the button is not the card's link

    # Home again: the saved movie is in the watchlist row and out of the recommendations.
    page.reload()
    assert loaded_movie_ids(row(page, "Your watchlist")) == [first]
    assert first not in loaded_movie_ids(row(page, "Recommended for you"))

    page.get_by_role("link", name="Watchlist", exact=True).click()
    expect(page).to_have_url(f"{server.url}/#/watchlist")
    expect(page.get_by_role("heading", level=1)).to_have_text("Your watchlist")
    expect(page.locator(".count")).to_have_text("1 movie")
    expect(page.locator(f'.paged article[data-movie-id="{first}"]')).to_be_visible()
    _shoot(page, "watchlist")

    # On the movie's page the button says so; it is a keyboard stop there.
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(f"{server.url}/#/movie/{first}")
    button = page.get_by_role("button", name=re.compile("On your watchlist"))
    expect(button).to_have_attribute("aria-pressed", "true")
    button.focus()
    with page.expect_response(answer_to("Watchlist")) as answered:
        page.keyboard.press("Enter")
    assert answered.value.json()["data"]["remove"]["saved"] is False
    expect(page.get_by_role("button", name=re.compile("Save to watchlist"))).to_have_attribute(
        "aria-pressed", "false"
    )
    _shoot(page, "movie-watchlist")

    page.goto(f"{server.url}/#/watchlist")
    expect(page.get_by_text("Nothing saved yet.")).to_be_visible()
    page.goto(f"{server.url}/#/home")
    assert first in loaded_movie_ids(row(page, "Recommended for you"))


def test_a_failed_save_says_so_and_keeps_the_state(page: Page, server: Server) -> None:
    sign_in(page, server.url, "user27")
    page.goto(f"{server.url}/#/movie/1")
    button = page.get_by_role("button", name=re.compile("Save to watchlist"))
    expect(button).to_be_visible()
    page.route(
        f"{server.url}/graphql",
        lambda route: (
            route.abort("internetdisconnected")
            if "mutation Watchlist" in (route.request.post_data or "")
            else route.fallback()
        ),
    )
    button.click()
    expect(page.get_by_role("alert")).to_contain_text("Could not update your watchlist")
    expect(button).to_have_attribute("aria-pressed", "false")


def test_home_shows_a_save_or_unsave_from_any_card_at_once(page: Page, server: Server) -> None:
    sign_in(page, server.url, "user30")
    recommended = row(page, "Recommended for you")
    watchlist = row(page, "Your watchlist")
    first = loaded_movie_ids(recommended)[0]
    expect(watchlist.get_by_text("Nothing saved yet.")).to_be_visible()

    in_recommended = recommended.locator(f'article[data-movie-id="{first}"] button.save')
    in_recommended.click()
    # No reload: the watchlist row shows the movie as soon as the server has saved it.
    saved_card = watchlist.locator(f'article[data-movie-id="{first}"]')
    expect(saved_card).to_be_visible()
    assert loaded_movie_ids(watchlist) == [first]
    expect(saved_card.locator("button.save")).to_have_attribute("aria-pressed", "true")
    expect(in_recommended).to_have_attribute("aria-pressed", "true")  # the card stays, pressed

    # Unsaved from the watchlist row: the row empties and the other card follows.
    saved_card.locator("button.save").click()
    expect(watchlist.get_by_text("Nothing saved yet.")).to_be_visible()
    expect(in_recommended).to_have_attribute("aria-pressed", "false")
    page_data = "{ viewer { watchlist { totalCount } } }"
    assert api(page, page_data) == {"viewer": {"watchlist": {"totalCount": 0}}}
