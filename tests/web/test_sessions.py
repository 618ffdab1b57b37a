"""Sessions that survive tabs, reloads and deep links; sign-out everywhere; ended sessions noticed.

Issue 13, Deliver 3. Two pages of one browser context are two tabs of one browser: they share
localStorage and see each other's `storage` events.
"""

from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.web.conftest import Server
from tests.web.steps import DEMO_PASSWORD, api, session_token, sign_in, store_session

pytestmark = [pytest.mark.browser, pytest.mark.movielens]


def _title(page: Page, movie_id: int) -> str:
    return api(page, f"{{ movie(id: {movie_id}) {{ title }} }}")["movie"]["title"]


def _unrated_movie(page: Page) -> int:
    """A movie the signed-in user has not rated."""
    fields = "edges { node { id viewerRating } }"
    data = api(page, f"{{ movies(first: 100, orderBy: TITLE) {{ {fields} }} }}")
    movies = [edge["node"] for edge in data["movies"]["edges"]]
    return next(m["id"] for m in movies if m["viewerRating"] is None)


def test_a_session_survives_a_new_tab_a_reload_and_a_deep_link(page: Page, server: Server) -> None:
    sign_in(page, server.url, "user8")
    title = _title(page, 1)
    other_tab = page.context.new_page()
    other_tab.goto(f"{server.url}/#/movie/1")
    expect(other_tab.get_by_role("heading", level=1)).to_have_text(title)
    other_tab.reload()
    expect(other_tab.get_by_role("heading", level=1)).to_have_text(title)
    assert session_token(other_tab) == session_token(page)


def test_signing_out_in_one_tab_signs_out_every_open_tab(page: Page, server: Server) -> None:
    sign_in(page, server.url, "user10")
    other_tab = page.context.new_page()
    other_tab.goto(f"{server.url}/#/movie/1")
    expect(other_tab.locator(".stats")).to_be_visible()

    page.get_by_role("link", name="Profile").click()
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(other_tab).to_have_url(f"{server.url}/#/login?signedout&next=%2Fmovie%2F1")
    expect(other_tab.get_by_role("alert")).to_have_text("You signed out in another window.")
    assert session_token(other_tab) is None


def test_sign_in_returns_to_the_page_asked_for(page: Page, server: Server) -> None:
    page.goto(f"{server.url}/#/movie/2")
    expect(page).to_have_url(f"{server.url}/#/login?next=%2Fmovie%2F2")
    page.get_by_label("Username").fill("user11")
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{server.url}/#/movie/2")
    expect(page.get_by_role("heading", level=1)).to_have_text(_title(page, 2))


def test_an_expired_session_is_dropped_before_it_is_sent(page: Page, server: Server) -> None:
    page.goto(f"{server.url}/")
    store_session(page, "some-old-token", expires_in_s=-60)
    page.goto(f"{server.url}/#/profile")
    expect(page).to_have_url(f"{server.url}/#/login?next=%2Fprofile")
    assert session_token(page) is None


def test_a_revoked_token_is_noticed_on_a_movie_page(page: Page, server: Server) -> None:
    page.goto(f"{server.url}/")
    store_session(page, "revoked-or-forged")
    page.goto(f"{server.url}/#/movie/1")
    expect(page).to_have_url(f"{server.url}/#/login?expired&next=%2Fmovie%2F1")
    expect(page.get_by_role("alert")).to_have_text("Your session has ended. Please sign in again.")


def test_a_rating_given_after_the_session_ended_is_saved_after_signing_in(
    page: Page, server: Server
) -> None:
    sign_in(page, server.url, "user12")
    movie_id = _unrated_movie(page)
    title = _title(page, movie_id)
    page.goto(f"{server.url}/#/movie/{movie_id}")
    expect(page.get_by_text("Not rated yet")).to_be_visible()
    api(page, "mutation { logout }")  # revoked on the server, e.g. from another device

    page.get_by_role("radio", name="Rate 4 stars").check()
    expect(page).to_have_url(f"{server.url}/#/login?expired&next=%2Fmovie%2F{movie_id}")
    expect(page.get_by_role("alert")).to_have_text(
        f"Your session has ended. Sign in again to save your rating of {title} (4 of 5)."
    )
    page.get_by_label("Username").fill("user12")
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    expect(page).to_have_url(f"{server.url}/#/movie/{movie_id}")
    expect(page.get_by_role("status").filter(has_text="Signed in again")).to_have_text(
        f"Signed in again: the rating of {title} (4 of 5) is saved."
    )
    expect(page.get_by_role("radio", name="Rate 4 stars")).to_be_checked()
    assert api(page, f"{{ movie(id: {movie_id}) {{ viewerRating }} }}")["movie"] == {
        "viewerRating": 4.0
    }


def _rating_of(server: Server, username: str, movie_id: int) -> float | None:
    login = httpx.post(
        f"{server.url}/graphql",
        json={
            "query": "mutation($u: String!, $p: String!) { login(username: $u, password: $p) "
            "{ ... on AuthPayload { token } } }",
            "variables": {"u": username, "p": DEMO_PASSWORD},
        },
    ).json()
    token = login["data"]["login"]["token"]
    body = httpx.post(
        f"{server.url}/graphql",
        json={"query": f"{{ movie(id: {movie_id}) {{ viewerRating }} }}"},
        headers={"Authorization": f"Bearer {token}"},
    ).json()
    return body["data"]["movie"]["viewerRating"]


def test_a_kept_rating_is_not_saved_into_another_account(page: Page, server: Server) -> None:
    sign_in(page, server.url, "user13")
    movie_id = _unrated_movie(page)
    title = _title(page, movie_id)
    other_before = _rating_of(server, "user14", movie_id)
    page.goto(f"{server.url}/#/movie/{movie_id}")
    expect(page.get_by_text("Not rated yet")).to_be_visible()
    api(page, "mutation { logout }")
    page.get_by_role("radio", name="Rate 2 stars").check()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()

    page.get_by_label("Username").fill("user14")
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{server.url}/#/movie/{movie_id}")
    expect(page.get_by_role("status").filter(has_text="not saved")).to_have_text(
        f"The rating of {title} (2 of 5) was given in another account's session and was not saved."
    )
    assert _rating_of(server, "user14", movie_id) == other_before
    assert _rating_of(server, "user13", movie_id) is None
