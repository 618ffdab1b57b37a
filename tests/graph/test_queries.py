"""Every Query field against the small store: shapes, ordering, paging and bad arguments."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, func, insert, select

from data.schema import ratings, users
from graph.pagination import encode_cursor
from graph.services.catalog import NEWLY_ADDED_MIN_RATERS
from tests.graph.conftest import (
    BARE_MOVIE,
    GENRES,
    MOVIES,
    NO_GENRES_MOVIE,
    GraphQL,
    error_codes,
    movie_genre_names,
)

MOVIE_FIELDS = """
  id title year genres originalTitle overview posterPath backdropPath
  small: posterUrl(size: W92) posterUrl backdropUrl imdbId tmdbId
  ratingStats { average count } viewerRating predictedRating
"""


def test_movie_has_every_field(gql: GraphQL, store: Engine) -> None:
    result = gql(f"query($id: Int!) {{ movie(id: $id) {{ {MOVIE_FIELDS} }} }}", {"id": 4})
    movie = result["data"]["movie"]
    with store.connect() as conn:
        average, count = conn.execute(
            select(func.avg(ratings.c.rating), func.count()).where(ratings.c.movie_id == 4)
        ).one()
    assert movie == {
        "id": 4,
        "title": "Film 4",
        "year": 1984,
        "genres": movie_genre_names(4),
        "originalTitle": "Original 4",
        "overview": 'Overview of film 4, with "quotes" and é.',
        "posterPath": "/poster4.jpg",
        "backdropPath": "/backdrop4.jpg",
        "small": "https://image.tmdb.org/t/p/w92/poster4.jpg",
        "posterUrl": "https://image.tmdb.org/t/p/w342/poster4.jpg",
        "backdropUrl": "https://image.tmdb.org/t/p/w780/backdrop4.jpg",
        "imdbId": "tt0000004",
        "tmdbId": 1004,
        "ratingStats": {"average": pytest.approx(average), "count": count},
        "viewerRating": None,
        "predictedRating": None,
    }


def test_movie_without_metadata_or_ratings_gives_nulls(gql: GraphQL) -> None:
    movie = gql(f"{{ movie(id: {BARE_MOVIE}) {{ {MOVIE_FIELDS} }} }}")["data"]["movie"]
    assert movie["posterUrl"] is None
    assert movie["backdropUrl"] is None
    assert movie["overview"] is None
    assert movie["ratingStats"] == {"average": None, "count": 0}


def test_unknown_movie_is_null(gql: GraphQL) -> None:
    assert gql("{ movie(id: 987654) { id } }") == {"data": {"movie": None}}


def test_viewer_fields_follow_the_signed_in_user(gql: GraphQL, store: Engine) -> None:
    token = gql.login("user2")
    with store.connect() as conn:
        rated = conn.execute(
            select(ratings.c.movie_id, ratings.c.rating).where(ratings.c.user_id == 2).limit(1)
        ).one()
    query = "query($id: Int!) { movie(id: $id) { viewerRating predictedRating } }"
    movie = gql(query, {"id": rated.movie_id}, token=token)["data"]["movie"]
    assert movie["viewerRating"] == rated.rating
    assert 0.5 <= movie["predictedRating"] <= 5.0


def test_similar_movies_exclude_the_movie_itself(gql: GraphQL) -> None:
    similar = gql("{ movie(id: 3) { similar(first: 4) { id } } }")["data"]["movie"]["similar"]
    ids = [movie["id"] for movie in similar]
    assert len(ids) == 4
    assert 3 not in ids


def test_genres_lists_genres_in_use(gql: GraphQL) -> None:
    assert gql("{ genres }")["data"]["genres"] == sorted(GENRES)


def test_movies_pages_cover_the_catalog_once(gql: GraphQL) -> None:
    query = """query($after: String) { movies(first: 7, after: $after, orderBy: TITLE) {
      totalCount edges { cursor node { id } } pageInfo { hasNextPage endCursor } } }"""
    seen: list[int] = []
    after = None
    while True:
        page = gql(query, {"after": after})["data"]["movies"]
        assert page["totalCount"] == MOVIES
        seen += [edge["node"]["id"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert sorted(seen) == list(range(1, MOVIES + 1))
    assert len(seen) == len(set(seen))


def test_movies_search_and_genre_filter(gql: GraphQL) -> None:
    query = """query($s: String, $g: String) { movies(search: $s, genre: $g, first: 100) {
      totalCount edges { node { id title genres } } } }"""
    by_title = gql(query, {"s": "fILM 1"})["data"]["movies"]
    assert {edge["node"]["id"] for edge in by_title["edges"]} == {1, *range(10, 20)}
    by_original_title = gql(query, {"s": "original 29"})["data"]["movies"]
    assert by_original_title["totalCount"] == 0  # the bare movie has no original title
    dramas = gql(query, {"g": "Drama"})["data"]["movies"]["edges"]
    expected = {m for m in range(1, MOVIES + 1) if "Drama" in movie_genre_names(m)}
    assert {edge["node"]["id"] for edge in dramas} == expected
    assert NO_GENRES_MOVIE not in expected


def test_movies_search_treats_like_wildcards_literally(gql: GraphQL) -> None:
    result = gql('{ movies(search: "%") { totalCount } }')
    assert result["data"]["movies"]["totalCount"] == 0


@pytest.mark.parametrize("order", ["POPULARITY", "TITLE", "YEAR", "RATING"])
def test_movies_orders(gql: GraphQL, order: str) -> None:
    query = f"""{{ movies(first: 100, orderBy: {order}) {{ edges {{ node {{
      id title year ratingStats {{ average count }} }} }} }} }}"""
    nodes = [edge["node"] for edge in gql(query)["data"]["movies"]["edges"]]
    keys = {
        "POPULARITY": lambda n: -n["ratingStats"]["count"],
        "TITLE": lambda n: n["title"].lower(),
        "YEAR": lambda n: -n["year"],
        "RATING": lambda n: -(n["ratingStats"]["average"] or -1),
    }
    values = [keys[order](node) for node in nodes]
    assert values == sorted(values)


@pytest.mark.parametrize(
    ("arguments", "fragment"),
    [
        ("first: 101", "between 0 and 100"),
        ("first: -1", "between 0 and 100"),
        ('genre: "Nope"', "unknown genre"),
        ('after: "not-a-cursor"', "invalid cursor"),
        (f'after: "{encode_cursor(10**30)}"', "invalid cursor"),
        (f'search: "{"x" * 201}"', "200 characters"),
    ],
)
def test_movies_bad_arguments(gql: GraphQL, arguments: str, fragment: str) -> None:
    result = gql(f"{{ movies({arguments}) {{ totalCount }} }}")
    assert error_codes(result) == ["BAD_USER_INPUT"]
    assert fragment in result["errors"][0]["message"]


def test_rails(gql: GraphQL, store: Engine) -> None:
    # Newly added lists only movies enough people rated: lift five movies over the bar.
    crowd = range(100, 100 + NEWLY_ADDED_MIN_RATERS)
    lifted = [1, 2, 3, 4, 5]
    with store.begin() as conn:
        conn.execute(
            insert(users),
            [{"id": u, "username": f"crowd{u}", "password_hash": "-"} for u in crowd],
        )
        conn.execute(
            insert(ratings),
            [
                {"user_id": u, "movie_id": m, "rating": 3.0, "rated_at": 1_400_000_000 + m}
                for u in crowd
                for m in lifted
            ],
        )
    result = gql("{ featured(first: 3) { id } trending(first: 3) { id } newlyAdded { id } }")
    data = result["data"]
    assert len(data["featured"]) == 3
    assert len(data["trending"]) == 3
    with store.connect() as conn:
        newest = conn.execute(
            select(ratings.c.movie_id).order_by(ratings.c.rated_at.desc()).limit(1)
        ).scalar_one()
        first_rated = dict(
            conn.execute(
                select(ratings.c.movie_id, func.min(ratings.c.rated_at)).group_by(
                    ratings.c.movie_id
                )
            ).all()
        )
    newly = [movie["id"] for movie in data["newlyAdded"]]
    assert sorted(newly) == lifted
    assert [first_rated[m] for m in newly] == sorted((first_rated[m] for m in newly), reverse=True)
    assert newest in [m["id"] for m in gql("{ trending(first: 100) { id } }")["data"]["trending"]]


def test_featured_prefers_many_good_ratings_to_one_perfect_one(gql: GraphQL, store: Engine) -> None:
    with store.begin() as conn:
        conn.execute(insert(ratings).values(user_id=1, movie_id=BARE_MOVIE, rating=5.0, rated_at=1))
    featured = gql("{ featured(first: 3) { id } }")["data"]["featured"]
    assert BARE_MOVIE not in [movie["id"] for movie in featured]


def test_viewer_is_null_when_signed_out_or_with_a_bad_token(gql: GraphQL) -> None:
    assert gql("{ viewer { id } }") == {"data": {"viewer": None}}
    assert gql("{ viewer { id } }", token="garbage") == {"data": {"viewer": None}}


def test_viewer_ratings_connection(gql: GraphQL) -> None:
    token = gql.login("user3")
    query = """query($after: String, $order: RatingOrder!) { viewer { id username ratingCount
      ratings(first: 5, after: $after, orderBy: $order) { totalCount
        edges { cursor node { rating ratedAt movie { id } } }
        pageInfo { hasNextPage endCursor } } } }"""
    first = gql(query, {"order": "HIGHEST"}, token=token)["data"]["viewer"]
    assert first["username"] == "user3"
    assert first["ratingCount"] == first["ratings"]["totalCount"] == 12
    values = [edge["node"]["rating"] for edge in first["ratings"]["edges"]]
    assert values == sorted(values, reverse=True)
    after = first["ratings"]["pageInfo"]["endCursor"]
    second = gql(query, {"order": "HIGHEST", "after": after}, token=token)["data"]["viewer"]
    first_ids = {edge["node"]["movie"]["id"] for edge in first["ratings"]["edges"]}
    second_ids = {edge["node"]["movie"]["id"] for edge in second["ratings"]["edges"]}
    assert not first_ids & second_ids
    recent = gql(query, {"order": "RECENT"}, token=token)["data"]["viewer"]["ratings"]["edges"]
    times = [edge["node"]["ratedAt"] for edge in recent]
    assert times == sorted(times, reverse=True)
    assert times[0].endswith("+00:00")


def test_recommendations_need_a_viewer(gql: GraphQL) -> None:
    result = gql("{ recommendations { id } }")
    assert error_codes(result) == ["UNAUTHENTICATED"]
    assert result["data"] is None


def test_recommendations_exclude_rated_movies_and_honour_genre(gql: GraphQL, store: Engine) -> None:
    token = gql.login("user4")
    with store.connect() as conn:
        rated = set(
            conn.execute(select(ratings.c.movie_id).where(ratings.c.user_id == 4)).scalars()
        )
    query = """query($g: String) { recommendations(first: 5, genre: $g) { id genres }
      viewer { recommendations(first: 5) { id } } }"""
    data = gql(query, {"g": None}, token=token)["data"]
    ids = [movie["id"] for movie in data["recommendations"]]
    assert len(ids) == 5
    assert not set(ids) & rated
    assert [movie["id"] for movie in data["viewer"]["recommendations"]] == ids
    comedies = gql(query, {"g": "Comedy"}, token=token)["data"]["recommendations"]
    assert comedies
    assert all("Comedy" in movie["genres"] for movie in comedies)
