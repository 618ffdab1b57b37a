// A poster with its title, linking to the movie. The GraphQL fields it needs live beside it, so
// every query that shows cards asks for exactly what the card draws.

import { el, yearText } from "../dom.js";
import { picture } from "./picture.js";

export const CARD_FIELDS = /* GraphQL */ `
  fragment CardFields on Movie {
    id
    title
    year
    posterUrl(size: W342)
  }
`;

/**
 * @param {{ id: number, title: string, year: number | null, posterUrl: string | null }} movie
 * @param {Node} [below] extra controls under the link (onboarding puts the star rating there)
 * @returns {HTMLElement}
 */
export function movieCard(movie, below) {
  return el(
    "article",
    { className: "card", "data-movie-id": movie.id },
    el(
      "a",
      { className: "card-link", href: `#/movie/${movie.id}` },
      picture({ urls: [movie.posterUrl], title: movie.title, className: "poster" }),
      el("span", { className: "card-title" }, movie.title),
      el("span", { className: "card-year" }, yearText(movie.year)),
    ),
    below,
  );
}
