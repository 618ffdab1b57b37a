"""Recommendations show the predicted rating and why ("Because you rated …") on Home's cards
and on a movie's page.

The server's own reasons depend on the model; the test replaces them in flight (two reasons
on the first movie, none on the others) so that what is checked is how the app shows what the
API says; the movie page shows the served model's own reasons.
"""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import Page, Route, expect

from tests.web.conftest import ARTIFACTS, Server
from tests.web.steps import DEVICES, contrast_failures, loaded_movie_ids, row, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.movielens]

REASONS = [{"movie": {"displayTitle": "Toy Story"}}, {"movie": {"displayTitle": "Aladdin"}}]


def _with_reasons(route: Route) -> None:
    """The real answer to the Recommended query, with two reasons for its first movie only."""
    if "query Recommended" not in (route.request.post_data or ""):
        route.fallback()
        return
    response = route.fetch()
    body = response.json()
    for index, movie in enumerate(body["data"]["recommendations"]):
        movie["because"] = REASONS if index == 0 else []
    route.fulfill(response=response, body=json.dumps(body))


@pytest.mark.parametrize(("device", "width", "height"), DEVICES)
def test_recommendations_show_the_prediction_and_why(
    page: Page, server: Server, device: str, width: int, height: int
) -> None:
    page.set_viewport_size({"width": width, "height": height})
    page.route(f"{server.url}/graphql", _with_reasons)
    sign_in(page, server.url, "user25")
    recommended = row(page, "Recommended for you")
    ids = loaded_movie_ids(recommended)
    watched = loaded_movie_ids(row(page, "Movies you have watched"))
    cards = recommended.locator("article.card")
    expect(cards.first.locator(".card-why")).to_have_text("Because you rated Toy Story and Aladdin")
    expect(cards.nth(1).locator(".card-why")).to_have_count(0)  # no reason, no line
    for card in cards.all()[:4]:
        expect(card.locator(".card-predicted")).to_have_text(re.compile(r"^Predicted [0-5]\.\d ★$"))
    # Watched cards show the viewer's own stars, never a prediction.
    expect(row(page, "Movies you have watched").locator(".card-predicted")).to_have_count(0)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / f"screen-{device}-home-why.png", full_page=True)
    assert contrast_failures(page) == []

    page.goto(f"{server.url}/#/movie/{ids[0]}")
    # The movie's page asks the server itself: the served PureSVD's own reasons.
    expect(page.locator(".why")).to_have_text(
        re.compile(r"^Predicted for you: [0-5]\.\d of 5\. Because you rated \S.+\.$")
    )
    # A movie the viewer rated shows their stars instead.
    page.goto(f"{server.url}/#/movie/{watched[0]}")
    expect(page.locator(".stats")).to_be_visible()
    expect(page.locator(".why")).to_have_count(0)
