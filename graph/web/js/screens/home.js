// Home: what the viewer has watched (with their stars), what is recommended for them, and a third
// row switched by the chips (featured, trending, newly added, then one per genre). Every visit
// asks the server again, so a rating given on a movie's page shows here on return.

import { gql, stillSignedIn } from "../api.js";
import { el } from "../dom.js";
import { CARD_FIELDS, WHY_FIELDS } from "../ui/movie-card.js";
import { EMPTY_WATCHLIST, WATCHLIST } from "./watchlist.js";
import { RAILS, RECOMMENDED_PATH } from "./see-all.js";
import { movieRow } from "../ui/movie-row.js";
import { rovingFocus } from "../ui/roving.js";
import { WATCHLIST_EVENT } from "../ui/watchlist-button.js";

const WATCHED = /* GraphQL */ `
  query Watched {
    viewer {
      id
      ratings(first: 20, orderBy: RECENT) { edges { node { rating movie { ...CardFields } } } }
    }
  }
  ${CARD_FIELDS}
`;

const RECOMMENDED = /* GraphQL */ `
  query Recommended { recommendations(first: 20) { ...CardFields ...WhyFields } }
  ${CARD_FIELDS}
  ${WHY_FIELDS}
`;

const GENRES = /* GraphQL */ `query Genres { genres }`;

function railQuery(field) {
  return `query Rail { movies: ${field}(first: 20) { ...CardFields } } ${CARD_FIELDS}`;
}

const GENRE_RECOMMENDATIONS = /* GraphQL */ `
  query GenreRecommendations($genre: String!) {
    movies: recommendations(first: 20, genre: $genre) { ...CardFields ...WhyFields }
  }
  ${CARD_FIELDS}
  ${WHY_FIELDS}
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

/** A rail's full list is its own paged screen; a genre's is the genre's search. */
function chipSeeAll(label) {
  const rail = RAILS.find((r) => r.label === label);
  if (rail) return { href: `#${rail.path}`, label: `See all ${label} movies` };
  return {
    href: `#/search?${new URLSearchParams({ genre: label })}`,
    label: `See all ${label} movies`,
  };
}

/**
 * The chips scroll sideways; arrows at each end show (and scroll to) what is cut off, so a
 * phone user sees that more genres exist.
 * @param {HTMLElement} chips
 */
function scrollingChips(chips) {
  const step = (direction) => () =>
    chips.scrollBy({ left: direction * chips.clientWidth * 0.8, behavior: "smooth" });
  // Pointer helpers only: keyboard users move through the chips with the arrow keys.
  const before = el(
    "button",
    { type: "button", className: "chips-more before", tabIndex: -1, "aria-hidden": "true" },
    "‹",
  );
  const after = el(
    "button",
    { type: "button", className: "chips-more after", tabIndex: -1, "aria-hidden": "true" },
    "›",
  );
  before.addEventListener("click", step(-1));
  after.addEventListener("click", step(1));
  const frame = el("div", { className: "chips-frame" }, before, chips, after);
  function update() {
    const end = chips.scrollWidth - chips.clientWidth;
    frame.classList.toggle("more-before", chips.scrollLeft > 1);
    frame.classList.toggle("more-after", chips.scrollLeft < end - 1);
  }
  chips.addEventListener("scroll", update, { passive: true });
  new ResizeObserver(update).observe(chips);
  return { element: frame, update };
}

/** @param {HTMLElement} view */
export function renderHome(view) {
  const watched = movieRow({
    heading: "Movies you have watched",
    load: async () => {
      const data = await gql(WATCHED);
      if (!stillSignedIn(data)) return null;
      return data.viewer.ratings.edges.map(({ node }) => ({
        ...node.movie,
        ownRating: node.rating,
      }));
    },
    seeAll: { href: "#/ratings", label: "See all movies you have rated" },
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
    seeAll: { href: `#${RECOMMENDED_PATH}`, label: "See all movies recommended for you" },
    empty: () => "No recommendations yet.",
  });

  const saved = movieRow({
    heading: "Your watchlist",
    load: async () => {
      const data = await gql(WATCHLIST, { first: 20, after: null });
      if (!stillSignedIn(data)) return null;
      return data.viewer.watchlist.edges.map(({ node }) => node);
    },
    seeAll: { href: "#/watchlist", label: "See all movies on your watchlist" },
    empty: () => EMPTY_WATCHLIST,
  });

  const chipRow = movieRow({
    heading: chipHeading(selected),
    load: () => chipLoader(selected)(),
    empty: () => "No movies here yet.",
    seeAll: chipSeeAll(selected),
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
      chipRow.setSeeAll(chipSeeAll(label));
      chipRow.reload();
    });
    chips.append(chip);
  }
  RAILS.forEach((r) => addChip(r.label));
  const roving = rovingFocus(chips, "button.chip");
  const scroller = scrollingChips(chips);
  const genresLoaded = gql(GENRES).then(
    ({ genres }) => {
      genres.forEach(addChip);
      roving.refresh();
      scroller.update();
      // Back from a movie, the chosen genre chip is in view (the chips are their own scroller).
      const pressed = chips.querySelector('[aria-pressed="true"]');
      chips.scrollLeft = pressed.offsetLeft - chips.clientWidth / 2;
    },
    () => {}, // the fixed chips still work; a genre list failure is not worth an error box
  );

  // Saved or unsaved from any card here: the watchlist row shows it at once (the card itself
  // stays where it is, its toggle pressed, so the change can be undone on the spot).
  function refreshWatchlist() {
    if (!view.isConnected) window.removeEventListener(WATCHLIST_EVENT, refreshWatchlist);
    else saved.reload();
  }
  window.addEventListener(WATCHLIST_EVENT, refreshWatchlist);

  view.append(
    el("h1", { className: "visually-hidden", tabIndex: -1 }, "Home"),
    watched.element,
    recommended.element,
    el(
      "section",
      { className: "browse", "aria-label": "Browse" },
      scroller.element,
      chipRow.element,
    ),
    saved.element,
  );
  return Promise.all([watched.ready, recommended.ready, chipRow.ready, saved.ready, genresLoaded]);
}
