// A poster with its title, linking to the movie. The GraphQL fields it needs live beside it, so
// every query that shows cards asks for exactly what the card draws.

import { el, yearText } from "../dom.js";
import { picture } from "./picture.js";
import { watchlistButton } from "./watchlist-button.js";

export const CARD_FIELDS = /* GraphQL */ `
  fragment CardFields on Movie {
    id
    displayTitle
    year
    posterUrl(size: W342)
    inWatchlist
  }
`;

/** What a recommendation adds to its card: the predicted rating and the model's reasons. */
export const WHY_FIELDS = /* GraphQL */ `
  fragment WhyFields on Movie {
    predictedRating
    because { movie { displayTitle } }
  }
`;

/** "Because you rated Toy Story and Aladdin", or null when there is no reason to give. */
export function becauseText(because) {
  const names = (because ?? []).map((reason) => reason.movie?.displayTitle).filter(Boolean);
  if (names.length === 0) return null;
  const listed =
    names.length === 1 ? names[0] : `${names.slice(0, -1).join(", ")} and ${names.at(-1)}`;
  return `Because you rated ${listed}`;
}

/** "Predicted 4.3 ★" for a movie the viewer has not rated. */
function predicted(rating) {
  return el(
    "span",
    { className: "card-predicted" },
    `Predicted ${rating.toFixed(1)}`,
    el("span", { "aria-hidden": "true" }, " ★"),
  );
}

/** "★ 4.5", read out as "Your rating: 4.5 stars". */
function ownRating(rating) {
  return el(
    "span",
    { className: "card-own" },
    el("span", { className: "visually-hidden" }, "Your rating: "),
    el("span", { "aria-hidden": "true" }, "★ "),
    String(rating),
    el("span", { className: "visually-hidden" }, rating === 1 ? " star" : " stars"),
  );
}

/**
 * @param {{ id: number, displayTitle: string, year: number | null, posterUrl: string | null,
 *   predictedRating?: number | null, because?: { movie: { displayTitle: string } | null }[] | null
 * }} movie `predictedRating` and `because` (WhyFields) are shown when the query asked for them
 * @param {{ below?: Node, rating?: number | null }} [extras] `below`: controls under the link
 *   (onboarding puts the star rating there); `rating`: the viewer's own stars, shown on the card
 * @returns {HTMLElement}
 */
export function movieCard(movie, { below, rating } = {}) {
  return el(
    "article",
    { className: "card", "data-movie-id": movie.id },
    el(
      "a",
      { className: "card-link", href: `#/movie/${movie.id}` },
      picture({ urls: [movie.posterUrl], title: movie.displayTitle, className: "poster" }),
      // Clamped to two lines; the full title is the link's name for screen readers and a hover.
      el("span", { className: "card-title", title: movie.displayTitle }, movie.displayTitle),
      el(
        "span",
        { className: "card-year" },
        yearText(movie.year),
        rating !== undefined && rating !== null && ownRating(rating),
      ),
      typeof movie.predictedRating === "number" && predicted(movie.predictedRating),
      becauseText(movie.because) &&
        el("span", { className: "card-why" }, becauseText(movie.because)),
    ),
    typeof movie.inWatchlist === "boolean" && watchlistButton(movie, { compact: true }),
    below,
  );
}
