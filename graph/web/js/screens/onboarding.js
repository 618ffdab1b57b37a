// A new account's first stop: popular movies to rate, and its own recommendations below, fetched
// again after every rating so the viewer sees them change as the model learns their taste.

import { gql, stillSignedIn } from "../api.js";
import { el, errorBox, loading } from "../dom.js";
import { CARD_FIELDS, WHY_FIELDS, movieCard } from "../ui/movie-card.js";
import { movieRow } from "../ui/movie-row.js";
import { starRating } from "../ui/star-rating.js";

/** Enough ratings for recommendations worth looking at; a suggestion, not a gate. */
const SUGGESTED_RATINGS = 3;

const POPULAR = /* GraphQL */ `
  query Onboarding {
    viewer { id username ratingCount }
    movies(first: 24, orderBy: POPULARITY) { edges { node { ...CardFields viewerRating } } }
  }
  ${CARD_FIELDS}
`;

const RECOMMENDED = /* GraphQL */ `
  query Recommended { recommendations(first: 12) { ...CardFields ...WhyFields } }
  ${CARD_FIELDS}
  ${WHY_FIELDS}
`;

function progressText(count) {
  return count >= SUGGESTED_RATINGS
    ? `You have rated ${count} movies. Rate more to sharpen your recommendations.`
    : `Rated ${count} of ${SUGGESTED_RATINGS}`;
}

/** @param {HTMLElement} view */
export function renderOnboarding(view) {
  const heading = el("h1", { tabIndex: -1 }, "Rate a few movies you have seen");
  const progress = el("p", { className: "progress", role: "status" });
  const body = el("div", {}, loading());
  const recommendations = el(
    "section",
    { className: "row-section onboarding-recs", "aria-label": "Recommended for you" },
    el("h2", {}, "Recommended for you"),
    el("p", { className: "status" }, "Your recommendations appear here once you rate a movie."),
  );
  let row = null;

  function showRecommendations() {
    if (row) return row.reload();
    row = movieRow({
      heading: "Recommended for you",
      load: () => gql(RECOMMENDED).then((d) => d.recommendations),
      empty: () => "No recommendations yet.",
    });
    row.element.classList.add("onboarding-recs");
    recommendations.replaceWith(row.element);
  }

  view.append(
    heading,
    el("p", {}, "Rate the ones you know, from half a star to five, and skip the rest."),
    progress,
    recommendations,
    el("h2", {}, "Popular movies"),
    body,
    el(
      "p",
      { className: "continue" },
      el("a", { className: "button primary", href: "#/home" }, "Continue to Home"),
    ),
  );

  async function load() {
    body.replaceChildren(loading());
    let data;
    try {
      data = await gql(POPULAR);
    } catch (error) {
      body.replaceChildren(errorBox(error, load));
      return;
    }
    if (!stillSignedIn(data)) return;
    heading.textContent = `Welcome, ${data.viewer.username}! Rate a few movies you have seen`;
    progress.textContent = progressText(data.viewer.ratingCount);
    if (data.viewer.ratingCount > 0) showRecommendations();
    const onSaved = ({ ratingCount }) => {
      progress.textContent = progressText(ratingCount);
      showRecommendations();
    };
    body.replaceChildren(
      el(
        "ul",
        { className: "grid rate-grid", "aria-label": "Popular movies" },
        ...data.movies.edges.map(({ node: movie }) =>
          el(
            "li",
            {},
            movieCard(movie, {
              below: starRating({
                movieId: movie.id,
                title: movie.displayTitle,
                value: movie.viewerRating,
                onSaved,
                compact: true,
              }),
            }),
          ),
        ),
      ),
    );
  }
  return load();
}
