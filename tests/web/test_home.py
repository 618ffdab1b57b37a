"""Home's chips and its per-row error state, against the real server and data."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, Route, expect

from tests.web.conftest import Server
from tests.web.steps import loaded_movie_ids, row, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.movielens]


def test_chips_switch_the_third_row(page: Page, server: Server) -> None:
    sign_in(page, server.url, "user4")
    chips = page.get_by_role("group", name="Browse movies")
    expect(chips.get_by_role("button", name="Featured")).to_have_attribute("aria-pressed", "true")
    seen = {"Featured": loaded_movie_ids(row(page, "Featured"))}

    for chip, heading in [
        ("Trending", "Trending"),
        ("Newly added", "Newly added"),
        ("Comedy", "Comedy for you"),
    ]:
        chips.get_by_role("button", name=chip, exact=True).click()
        expect(chips.get_by_role("button", name=chip, exact=True)).to_have_attribute(
            "aria-pressed", "true"
        )
        expect(chips.locator('[aria-pressed="true"]')).to_have_count(1)
        seen[heading] = loaded_movie_ids(row(page, heading))

    rows = list(seen.values())
    assert all(a != b for i, a in enumerate(rows) for b in rows[i + 1 :]), seen

    # The chosen chip survives a visit to a movie and back.
    row(page, "Comedy for you").get_by_role("link").first.click()
    page.go_back()
    assert loaded_movie_ids(row(page, "Comedy for you")) == seen["Comedy for you"]


def test_a_failing_row_shows_its_error_and_recovers_on_retry(page: Page, server: Server) -> None:
    def fail_recommendations(route: Route) -> None:
        if "query Recommended" in (route.request.post_data or ""):
            route.fulfill(status=503, body="")
        else:
            route.fallback()

    page.route(f"{server.url}/graphql", fail_recommendations)
    sign_in(page, server.url, "user5")
    recommended = row(page, "Recommended for you")
    expect(recommended.get_by_role("alert")).to_contain_text("HTTP 503")
    assert loaded_movie_ids(row(page, "Movies you have watched")), "other rows are unaffected"

    page.unroute(f"{server.url}/graphql", fail_recommendations)
    recommended.get_by_role("button", name="Try again").click()
    assert loaded_movie_ids(recommended)
