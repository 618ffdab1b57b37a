// Movies the viewer saved to watch later, newest first: "See all" of Home's watchlist row.

import { gql, stillSignedIn } from "../api.js";
import { el } from "../dom.js";
import { CARD_FIELDS } from "../ui/movie-card.js";
import { pagedGrid } from "../ui/paged-grid.js";

const PAGE_SIZE = 100;

export const WATCHLIST = /* GraphQL */ `
  query YourWatchlist($first: Int!, $after: String) {
    viewer {
      id
      watchlist(first: $first, after: $after) {
        totalCount
        edges { node { ...CardFields } }
        pageInfo { hasNextPage endCursor }
      }
    }
  }
  ${CARD_FIELDS}
`;

export const EMPTY_WATCHLIST =
  "Nothing saved yet. Save a movie with the + on its poster or on its page.";

/** @param {HTMLElement} view */
export function renderWatchlist(view) {
  const results = pagedGrid({
    label: "Your watchlist",
    load: async (after) => {
      const data = await gql(WATCHLIST, { first: PAGE_SIZE, after });
      if (!stillSignedIn(data)) return null;
      const { watchlist } = data.viewer;
      return {
        movies: watchlist.edges.map(({ node }) => node),
        totalCount: watchlist.totalCount,
        ...watchlist.pageInfo,
      };
    },
    empty: () => EMPTY_WATCHLIST,
  });
  view.append(el("h1", { tabIndex: -1 }, "Your watchlist"), results.element);
  return results.ready;
}
