// Search results and genre lists: #/search?q=<title words>&genre=<genre>, the `movies` query
// page by page, most popular first. Home's "See all" of a genre chip lands here with the genre
// and no words; the header's search box writes the words.

import { gql, stillSignedIn } from "../api.js";
import { el } from "../dom.js";
import { CARD_FIELDS } from "../ui/movie-card.js";
import { pagedGrid } from "../ui/paged-grid.js";

export const PAGE_SIZE = 40;

const SEARCH = /* GraphQL */ `
  query Search($search: String, $genre: String, $first: Int!, $after: String) {
    viewer { id }
    movies(search: $search, genre: $genre, first: $first, after: $after) {
      totalCount
      edges { node { ...CardFields } }
      pageInfo { hasNextPage endCursor }
    }
  }
  ${CARD_FIELDS}
`;

const GENRES = /* GraphQL */ `query Genres { genres }`;

/** @param {HTMLElement} view @param {{ query: URLSearchParams }} route */
export function renderSearch(view, { query }) {
  const text = query.get("q") ?? "";
  const genre = query.get("genre") ?? "";
  const title = text
    ? `Results for “${text}”${genre ? ` in ${genre}` : ""}`
    : genre
      ? `${genre} movies`
      : "All movies";

  const select = el(
    "select",
    { id: "genre-filter", name: "genre" },
    el("option", { value: "" }, "All genres"),
    genre && el("option", { value: genre, selected: true }, genre),
  );
  gql(GENRES).then(
    ({ genres }) =>
      select.replaceChildren(
        el("option", { value: "" }, "All genres"),
        ...genres.map((g) => el("option", { value: g, selected: g === genre }, g)),
      ),
    () => {}, // the chosen genre stays selectable; a list failure is not worth an error box
  );
  select.addEventListener("change", () => {
    const params = new URLSearchParams(query);
    if (select.value) params.set("genre", select.value);
    else params.delete("genre");
    location.replace(`#/search?${params}`);
  });

  const results = pagedGrid({
    label: title,
    load: async (after) => {
      const data = await gql(SEARCH, {
        search: text || null,
        genre: genre || null,
        first: PAGE_SIZE,
        after,
      });
      if (!stillSignedIn(data)) return null;
      return {
        movies: data.movies.edges.map((e) => e.node),
        totalCount: data.movies.totalCount,
        ...data.movies.pageInfo,
      };
    },
    empty: () => (text ? `No movie title contains “${text}”.` : "No movies here."),
  });

  view.append(
    el("h1", { tabIndex: -1 }, title),
    el(
      "div",
      { className: "filters" },
      el("label", { htmlFor: "genre-filter" }, "Genre"),
      select,
    ),
    results.element,
  );
  return results.ready;
}
