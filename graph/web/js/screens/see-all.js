// "See all" of Home's rows that are rankings: the three rails (#/featured, #/trending,
// #/newly-added, the `rail` query) and the viewer's recommendations (#/recommended, the
// `pagedRecommendations` query, with their predictions and reasons), page by page, in the order
// the row shows them.

import { gql, stillSignedIn } from "../api.js";
import { el } from "../dom.js";
import { CARD_FIELDS, WHY_FIELDS } from "../ui/movie-card.js";
import { pagedGrid } from "../ui/paged-grid.js";

const PAGE_SIZE = 40;

/** Home's fixed chips: each rail's label, its row's query field, its `RailName` and its page. */
export const RAILS = [
  { label: "Featured", field: "featured", name: "FEATURED", path: "/featured" },
  { label: "Trending", field: "trending", name: "TRENDING", path: "/trending" },
  { label: "Newly added", field: "newlyAdded", name: "NEWLY_ADDED", path: "/newly-added" },
];

export const RECOMMENDED_PATH = "/recommended";

const RAIL_PAGE = /* GraphQL */ `
  query RailPage($name: RailName!, $first: Int!, $after: String) {
    viewer { id }
    page: rail(name: $name, first: $first, after: $after) {
      totalCount
      edges { node { ...CardFields } }
      pageInfo { hasNextPage endCursor }
    }
  }
  ${CARD_FIELDS}
`;

const RECOMMENDED_PAGE = /* GraphQL */ `
  query RecommendedPage($first: Int!, $after: String) {
    viewer { id }
    page: pagedRecommendations(first: $first, after: $after) {
      totalCount
      edges { node { ...CardFields ...WhyFields } }
      pageInfo { hasNextPage endCursor }
    }
  }
  ${CARD_FIELDS}
  ${WHY_FIELDS}
`;

/**
 * @param {HTMLElement} view
 * @param {{ title: string, query: string, variables?: Record<string, unknown> }} list
 */
function renderPaged(view, { title, query, variables = {} }) {
  const results = pagedGrid({
    label: title,
    load: async (after) => {
      const data = await gql(query, { ...variables, first: PAGE_SIZE, after });
      if (!stillSignedIn(data)) return null;
      return {
        movies: data.page.edges.map(({ node }) => node),
        totalCount: data.page.totalCount,
        ...data.page.pageInfo,
      };
    },
    empty: () => "No movies here yet.",
  });
  view.append(el("h1", { tabIndex: -1 }, title), results.element);
  return results.ready;
}

/** The screen of one rail of RAILS. */
export function railScreen(rail) {
  /** @param {HTMLElement} view */
  return (view) =>
    renderPaged(view, { title: rail.label, query: RAIL_PAGE, variables: { name: rail.name } });
}

/** @param {HTMLElement} view */
export function renderRecommended(view) {
  return renderPaged(view, { title: "Recommended for you", query: RECOMMENDED_PAGE });
}
