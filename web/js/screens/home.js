// Home: what the viewer has watched, what is recommended for them, and a third row switched by
// the chips (featured, trending, newly added, then one per genre). Every visit asks the server
// again, so a rating given on a movie's page shows here on return.

import { gql, signOutLocally } from "../api.js";
import { el } from "../dom.js";
import { CARD_FIELDS } from "../ui/movie-card.js";
import { movieRow } from "../ui/movie-row.js";

const WATCHED = /* GraphQL */ `
  query Watched {
    viewer {
      ratings(first: 20, orderBy: RECENT) { edges { node { movie { ...CardFields } } } }
    }
  }
  ${CARD_FIELDS}
`;

const RECOMMENDED = /* GraphQL */ `
  query Recommended { recommendations(first: 20) { ...CardFields } }
  ${CARD_FIELDS}
`;

const GENRES = /* GraphQL */ `query Genres { genres }`;

/** The fixed chips, each with the rail behind it; genre chips follow, loaded from the API. */
const RAILS = [
  { label: "Featured", field: "featured" },
  { label: "Trending", field: "trending" },
  { label: "Newly added", field: "newlyAdded" },
];

function railQuery(field) {
  return `query Rail { movies: ${field}(first: 20) { ...CardFields } } ${CARD_FIELDS}`;
}

const GENRE_RECOMMENDATIONS = /* GraphQL */ `
  query GenreRecommendations($genre: String!) {
    movies: recommendations(first: 20, genre: $genre) { ...CardFields }
  }
  ${CARD_FIELDS}
`;

/** Survives leaving Home, so coming back from a movie shows the same chip. */
let selected = RAILS[0].label;

function chipLoader(label) {
  const rail = RAILS.find((r) => r.label === label);
  return rail
    ? () => gql(railQuery(rail.field)).then((d) => d.movies)
    : () => gql(GENRE_RECOMMENDATIONS, { genre: label }).then((d) => d.movies);
}

function chipHeading(label) {
  return RAILS.some((r) => r.label === label) ? label : `${label} for you`;
}

/** @param {HTMLElement} view */
export function renderHome(view) {
  const watched = movieRow({
    heading: "Movies you have watched",
    load: async () => {
      const { viewer } = await gql(WATCHED);
      if (viewer === null) {
        signOutLocally();
        return null;
      }
      return viewer.ratings.edges.map((e) => e.node.movie);
    },
    empty: () =>
      el(
        "span",
        {},
        "You have not rated any movies yet. ",
        el("a", { href: "#/onboarding" }, "Rate a few popular movies"),
        " to get recommendations made for you.",
      ),
  });

  const recommended = movieRow({
    heading: "Recommended for you",
    load: () => gql(RECOMMENDED).then((d) => d.recommendations),
    empty: () => "No recommendations yet.",
  });

  const chipRow = movieRow({
    heading: chipHeading(selected),
    load: () => chipLoader(selected)(),
    empty: () => "No movies here yet.",
  });

  const chips = el("div", { className: "chips", role: "group", "aria-label": "Browse movies" });
  function addChip(label) {
    const chip = el(
      "button",
      { type: "button", className: "chip", "aria-pressed": String(label === selected) },
      label,
    );
    chip.addEventListener("click", () => {
      selected = label;
      for (const other of chips.children) {
        other.setAttribute("aria-pressed", String(other === chip));
      }
      chipRow.setHeading(chipHeading(label));
      chipRow.reload();
    });
    chips.append(chip);
  }
  RAILS.forEach((r) => addChip(r.label));
  gql(GENRES).then(
    ({ genres }) => genres.forEach(addChip),
    () => {}, // the fixed chips still work; a genre list failure is not worth an error box
  );

  view.append(
    el("h1", { className: "visually-hidden", tabIndex: -1 }, "Home"),
    watched.element,
    recommended.element,
    el("section", { className: "browse", "aria-label": "Browse" }, chips, chipRow.element),
  );
}
