"""The web app's user journeys, end to end against the real server and the real MovieLens data."""

from __future__ import annotations

import re
import secrets

import pytest
from playwright.sync_api import Page, expect

from tests.web.conftest import Server
from tests.web.steps import (
    answer_to,
    api,
    loaded_movie_ids,
    row,
    session_token,
    sign_in,
    store_session,
)

pytestmark = [pytest.mark.browser, pytest.mark.movielens]

COLD_START = "{ recommendations(first: 20) { id } }"


def test_demo_user_rates_a_recommendation_and_home_reflects_it(page: Page, server: Server) -> None:
    sign_in(page, server.url, "user1")
    assert session_token(page)
    count_before = api(page, "{ viewer { ratingCount } }")["viewer"]["ratingCount"]
    watched_before = loaded_movie_ids(row(page, "Movies you have watched"))
    recommended_before = loaded_movie_ids(row(page, "Recommended for you"))
    picked = recommended_before[0]
    assert picked not in watched_before

    row(page, "Recommended for you").locator(f'article[data-movie-id="{picked}"] a').click()
    expect(page).to_have_url(f"{server.url}/#/movie/{picked}")
    title = page.get_by_role("heading", level=1)
    expect(title).not_to_have_text("Movie")
    expect(page.locator(".stats")).to_contain_text("average from")
    expect(page.get_by_text("Not rated yet")).to_be_visible()
    assert loaded_movie_ids(row(page, "Similar movies"))

    page.get_by_role("radio", name="Rate 4.5 stars").check()
    expect(page.get_by_text("You rated this 4.5 of 5")).to_be_visible()

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Home").click()
    watched_after = loaded_movie_ids(row(page, "Movies you have watched"))
    recommended_after = loaded_movie_ids(row(page, "Recommended for you"))
    assert watched_after[0] == picked, "the newest rating leads the watched row"
    assert picked not in recommended_after, "a rated movie is no longer recommended"
    assert recommended_after != recommended_before

    page.goto(f"{server.url}/#/movie/{picked}")
    expect(page.get_by_role("radio", name="Rate 4.5 stars")).to_be_checked()

    page.get_by_role("link", name="Profile").click()
    expect(page.locator('[data-field="username"]')).to_have_text("user1")
    expect(page.locator('[data-field="rating-count"]')).to_have_text(str(count_before + 1))
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    assert session_token(page) is None
    page.goto(f"{server.url}/#/home")
    expect(page).to_have_url(f"{server.url}/#/login?next=%2Fhome")


def test_wrong_password_and_taken_username_show_the_api_errors(page: Page, server: Server) -> None:
    page.goto(f"{server.url}/")
    page.get_by_label("Username").fill("user1")
    page.get_by_label("Password").fill("not-the-password")
    with page.expect_response(answer_to("Login")) as answer:
        page.get_by_label("Password").press("Enter")
    message = answer.value.json()["data"]["result"]["message"]
    assert message
    expect(page.get_by_role("alert")).to_have_text(message)
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    assert session_token(page) is None

    page.get_by_role("link", name="Create an account").click()
    page.get_by_label("Username").fill("USER1")
    page.get_by_label("Password").fill("long enough password")
    with page.expect_response(answer_to("SignUp")) as answer:
        page.get_by_role("button", name="Create account").click()
    result = answer.value.json()["data"]["result"]
    assert result["__typename"] == "UsernameTaken"
    expect(page.get_by_role("alert")).to_have_text(result["message"])
    assert session_token(page) is None


def test_new_account_rates_three_movies_and_gets_its_own_recommendations(
    page: Page, server: Server
) -> None:
    username = f"web_{secrets.token_hex(4)}"
    page.goto(f"{server.url}/#/signup")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("a good long password")
    page.get_by_role("button", name="Create account").click()

    expect(page).to_have_url(f"{server.url}/#/onboarding")
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"Welcome, {username}")
    expect(page.get_by_text("Rated 0 of 3")).to_be_visible()
    expect(page.get_by_text("Your recommendations appear here")).to_be_visible()
    cold_start = [m["id"] for m in api(page, COLD_START)["recommendations"]]

    cards = page.get_by_role("list", name="Popular movies").locator("article.card")
    rated = []
    for index, stars in [(0, "5"), (2, "4.5"), (5, "2")]:
        card = cards.nth(index)
        card.get_by_role("radio", name=f"Rate {stars} stars").check()
        expect(card.get_by_text(f"You rated this {stars} of 5")).to_be_visible()
        rated.append(int(card.get_attribute("data-movie-id")))

    expect(page.get_by_text("You have rated 3 movies")).to_be_visible()
    personal = loaded_movie_ids(row(page, "Recommended for you"))
    assert not set(personal) & set(rated), "rated movies are not recommended back"
    assert personal != cold_start[: len(personal)], "recommendations follow the new ratings"

    page.get_by_role("link", name="Continue to Home").click()
    assert sorted(loaded_movie_ids(row(page, "Movies you have watched"))) == sorted(rated)
    assert loaded_movie_ids(row(page, "Recommended for you"))[: len(personal)] == personal


def test_a_token_the_server_rejects_leads_back_to_sign_in(page: Page, server: Server) -> None:
    page.goto(f"{server.url}/")
    store_session(page, "expired-or-forged")
    page.goto(f"{server.url}/#/home")
    expect(page).to_have_url(f"{server.url}/#/login?expired&next=%2Fhome")
    expect(page.get_by_role("alert")).to_have_text("Your session has ended. Please sign in again.")
    assert session_token(page) is None


def test_a_rating_the_server_does_not_store_shows_as_not_saved(page: Page, server: Server) -> None:
    sign_in(page, server.url, "user7")
    page.route(
        f"{server.url}/graphql",
        lambda route: (
            route.fulfill(status=503, body="")
            if "mutation RateMovie" in (route.request.post_data or "")
            else route.fallback()
        ),
    )
    page.goto(f"{server.url}/#/movie/1")
    before = api(page, "{ movie(id: 1) { viewerRating } }")["movie"]["viewerRating"]
    expect(page.locator("input[type=radio]:checked")).to_have_count(0 if before is None else 1)

    # click, not check: the failed save puts the stored value back at once, as it should.
    page.get_by_role("radio", name="Rate 0.5 stars").click()
    expect(page.locator(".rating-status")).to_have_text(re.compile(r"^Not saved: .*HTTP 503"))
    if before is None:
        expect(page.locator("input[type=radio]:checked")).to_have_count(0)
    else:
        expect(page.locator(f'input[type=radio][value="{before:g}"]')).to_be_checked()
    after = api(page, "{ movie(id: 1) { viewerRating } }")["movie"]["viewerRating"]
    assert after == before
