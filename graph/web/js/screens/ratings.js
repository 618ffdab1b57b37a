// Every movie the viewer rated, newest first, with their stars: "See all" of Home's watched row.
// Read page by page, so an account with thousands of ratings (user414 has 2,698) sees them all.

import { gql, stillSignedIn } from "../api.js";
import { el } from "../dom.js";
import { CARD_FIELDS } from "../ui/movie-card.js";
import { pagedGrid } from "../ui/paged-grid.js";

const PAGE_SIZE = 100;

const RATINGS = /* GraphQL */ `
  query YourRatings($first: Int!, $after: String) {
    viewer {
      id
      ratings(first: $first, after: $after, orderBy: RECENT) {
        totalCount
        edges { node { rating movie { ...CardFields } } }
        pageInfo { hasNextPage endCursor }
      }
    }
  }
  ${CARD_FIELDS}
`;

/** @param {HTMLElement} view */
export function renderRatings(view) {
  const results = pagedGrid({
    label: "Movies you have rated",
    noun: ["rating", "ratings"],
    load: async (after) => {
      const data = await gql(RATINGS, { first: PAGE_SIZE, after });
      if (!stillSignedIn(data)) return null;
      const { ratings } = data.viewer;
      return {
        movies: ratings.edges.map(({ node }) => ({ ...node.movie, ownRating: node.rating })),
        totalCount: ratings.totalCount,
        ...ratings.pageInfo,
      };
    },
    empty: () =>
      el(
        "span",
        {},
        "You have not rated any movies yet. ",
        el("a", { href: "#/onboarding" }, "Rate a few popular movies"),
        ".",
      ),
  });
  view.append(el("h1", { tabIndex: -1 }, "Your ratings"), results.element);
  return results.ready;
}
