"""Search, "See all" with paging for every Home row, own stars on cards, removing a rating
(issue 13, 4 and 7)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.web.conftest import Server
from tests.web.steps import answer_to, api, loaded_movie_ids, row, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.movielens]

SEARCH_PAGE = 40


def _grid_ids(page: Page) -> list[int]:
    return [
        int(x)
        for x in page.locator(".paged article.card").evaluate_all(
            "cards => cards.map(c => c.dataset.movieId)"
        )
    ]


def _search_ids(page: Page, arguments: str, first: int) -> tuple[list[int], int]:
    data = api(
        page,
        f"{{ movies({arguments}, first: {first}) {{ totalCount edges {{ node {{ id }} }} }} }}",
    )
    return [e["node"]["id"] for e in data["movies"]["edges"]], data["movies"]["totalCount"]


def test_the_search_box_finds_titles_as_typed_and_pages_through_them(
    page: Page, server: Server
) -> None:
    sign_in(page, server.url, "user15")
    box = page.get_by_role("searchbox", name="Search movies")
    box.click()
    page.keyboard.type("star")
    expect(page).to_have_url(f"{server.url}/#/search?q=star")
    expect(page.get_by_role("heading", level=1)).to_have_text("Results for “star”")
    expect(box).to_be_focused()  # typing on is possible while results show
    expected, total = _search_ids(page, 'search: "star"', 2 * SEARCH_PAGE)
    assert total > SEARCH_PAGE, "the real data has enough matches for two pages"
    expect(page.locator(".count")).to_have_text(f"Showing {SEARCH_PAGE} of {total} movies")
    assert _grid_ids(page) == expected[:SEARCH_PAGE]

    with page.expect_response(answer_to("Search")):
        page.get_by_role("button", name="Show more").click()
    expect(page.locator(".count")).to_have_text(
        re.compile(rf"^(Showing {2 * SEARCH_PAGE} of )?{total} movies$")
    )
    assert _grid_ids(page) == expected
    # The keyboard lands on the first card of the new page.
    expect(page.locator(".paged article.card").nth(SEARCH_PAGE).get_by_role("link")).to_be_focused()

    page.get_by_label("Genre").select_option("Sci-Fi")
    expect(page).to_have_url(f"{server.url}/#/search?q=star&genre=Sci-Fi")
    expect(page.get_by_role("heading", level=1)).to_have_text("Results for “star” in Sci-Fi")
    sci_fi, sci_fi_total = _search_ids(page, 'search: "star", genre: "Sci-Fi"', SEARCH_PAGE)
    expect(page.locator(".count")).to_contain_text(f"{sci_fi_total} movies")
    assert _grid_ids(page) == sci_fi

    box.fill("no such film qqq")
    box.press("Enter")
    expect(page.get_by_text("No movie title contains “no such film qqq”.")).to_be_visible()


def test_a_genre_chip_leads_to_the_whole_genre_page_by_page(page: Page, server: Server) -> None:
    sign_in(page, server.url, "user16")
    page.get_by_role("group", name="Browse movies").get_by_role("button", name="Drama").click()
    loaded_movie_ids(row(page, "Drama for you"))
    row(page, "Drama for you").get_by_role("link", name="See all Drama movies").click()
    expect(page).to_have_url(f"{server.url}/#/search?genre=Drama")
    expect(page.get_by_role("heading", level=1)).to_have_text("Drama movies")
    expected, total = _search_ids(page, 'genre: "Drama"', SEARCH_PAGE)
    expect(page.locator(".count")).to_have_text(f"Showing {SEARCH_PAGE} of {total} movies")
    assert _grid_ids(page) == expected


SEE_ALL_PAGE = 40
RAIL_PAGE = """{{ page: rail(name: {name}, first: {first}) {{
  totalCount edges {{ node {{ id }} }} }} }}"""
RECOMMENDED_PAGE = """{{ page: pagedRecommendations(first: {first}) {{
  totalCount edges {{ node {{ id }} }} }} }}"""


def _page_ids(page: Page, query: str) -> tuple[list[int], int]:
    data = api(page, query)["page"]
    return [edge["node"]["id"] for edge in data["edges"]], data["totalCount"]


def _see_all_pages(page: Page, link_name: str, path: str, heading: str, query: str) -> None:
    """Follows a row's "See all" and checks its two first pages against the API's."""
    page.get_by_role("link", name=link_name).click()
    expect(page).to_have_url(f"{page.url.split('#')[0]}#{path}")
    expect(page.get_by_role("heading", level=1)).to_have_text(heading)
    count = page.locator(".count")
    expect(count).to_have_text(re.compile(rf"^Showing {SEE_ALL_PAGE} of \d+ movies$"))
    expected, total = _page_ids(page, query.format(first=2 * SEE_ALL_PAGE))
    assert total > 2 * SEE_ALL_PAGE, f"{heading} has more than two pages on the real data"
    expect(count).to_have_text(f"Showing {SEE_ALL_PAGE} of {total} movies")
    assert _grid_ids(page) == expected[:SEE_ALL_PAGE]
    page.get_by_role("button", name="Show more").click()
    expect(count).to_have_text(f"Showing {2 * SEE_ALL_PAGE} of {total} movies")
    assert _grid_ids(page) == expected


@pytest.mark.parametrize(
    ("chip", "path", "name"),
    [
        ("Featured", "/featured", "FEATURED"),
        ("Trending", "/trending", "TRENDING"),
        ("Newly added", "/newly-added", "NEWLY_ADDED"),
    ],
)
def test_each_rail_chip_has_a_see_all_that_pages_the_rail(
    page: Page, server: Server, chip: str, path: str, name: str
) -> None:
    sign_in(page, server.url, "user28")
    page.get_by_role("group", name="Browse movies").get_by_role("button", name=chip).click()
    shown = loaded_movie_ids(row(page, chip))
    first, _total = _page_ids(page, RAIL_PAGE.format(name=name, first=len(shown)))
    assert shown == first, "the row is the start of the rail the See all pages"
    _see_all_pages(page, f"See all {chip} movies", path, chip, RAIL_PAGE.replace("{name}", name))


def test_recommended_has_a_see_all_with_predictions_and_reasons(page: Page, server: Server) -> None:
    sign_in(page, server.url, "user29")
    shown = loaded_movie_ids(row(page, "Recommended for you"))
    first, _total = _page_ids(page, RECOMMENDED_PAGE.format(first=len(shown)))
    assert shown == first, "the row is the start of the list the See all pages"
    _see_all_pages(
        page,
        "See all movies recommended for you",
        "/recommended",
        "Recommended for you",
        RECOMMENDED_PAGE,
    )
    cards = page.locator(".paged article.card")
    expect(cards.first.locator(".card-predicted")).to_have_text(re.compile(r"^Predicted \d\.\d"))
    expect(cards.first.locator(".card-why")).to_have_text(re.compile(r"^Because you rated "))


def test_user414_pages_through_all_2698_ratings_with_their_stars(
    page: Page, server: Server
) -> None:
    sign_in(page, server.url, "user414")
    watched = row(page, "Movies you have watched")
    loaded_movie_ids(watched)
    first = api(page, "{ viewer { ratings(first: 1) { edges { node { rating movie { id } } } } } }")
    newest = first["viewer"]["ratings"]["edges"][0]["node"]
    card = watched.locator(f'article[data-movie-id="{newest["movie"]["id"]}"]')
    expect(card.locator(".card-own")).to_have_text(f"Your rating: ★ {newest['rating']:g} stars")

    watched.get_by_role("link", name="See all movies you have rated").click()
    expect(page).to_have_url(f"{server.url}/#/ratings")
    total = api(page, "{ viewer { ratingCount } }")["viewer"]["ratingCount"]
    assert total == 2698
    count = page.locator(".count")
    expect(count).to_have_text(f"Showing 100 of {total} ratings")
    shown = 100
    while shown < total:
        page.get_by_role("button", name="Show more").click()
        shown = min(shown + 100, total)
        expect(count).to_have_text(
            f"Showing {shown} of {total} ratings" if shown < total else f"{total} ratings"
        )
    expect(page.get_by_role("button", name="Show more")).to_have_count(0)
    ids = _grid_ids(page)
    assert len(ids) == len(set(ids)) == total
    expect(page.locator(".paged .card-own")).to_have_count(total)


def test_a_rating_is_removed_from_the_movie_page(page: Page, server: Server) -> None:
    sign_in(page, server.url, "user17")
    page.goto(f"{server.url}/#/movie/1")
    expect(page.locator(".stats")).to_be_visible()
    page.get_by_role("radio", name="Rate 3 stars").check()
    expect(page.get_by_text("You rated this 3 of 5")).to_be_visible()

    with page.expect_response(answer_to("RemoveRating")) as removed:
        page.get_by_role("button", name="Remove rating").click()
    assert removed.value.json()["data"]["removeRating"]["rating"] is None
    expect(page.get_by_text("Not rated yet")).to_be_visible()
    expect(page.locator("input[type=radio]:checked")).to_have_count(0)
    expect(page.get_by_role("button", name="Remove rating")).to_be_hidden()
    assert api(page, "{ movie(id: 1) { viewerRating } }") == {"movie": {"viewerRating": None}}
