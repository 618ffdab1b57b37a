// The viewer's own rating of a movie, 0.5 to 5 stars in half steps, saved with `rateMovie`.
// A radio group: one Tab stop per movie, arrow keys move between half stars, each half star is a
// real focusable input with a spoken name ("Rate 3.5 stars"). Arrowing through values would fire
// a save per key press, so saves wait for a short pause and run one after another.

import { gql } from "../api.js";
import { el } from "../dom.js";

const SAVE_DELAY_MS = 300;

const RATE_MOVIE = /* GraphQL */ `
  mutation RateMovie($movieId: Int!, $rating: Float!) {
    rateMovie(movieId: $movieId, rating: $rating) {
      __typename
      ... on RatingPayload {
        rating
        movie { ratingStats { average count } }
        viewer { ratingCount }
      }
      ... on MovieNotFound { message }
      ... on InvalidRating { message }
    }
  }
`;

let groupCount = 0;

/**
 * @typedef {{
 *   rating: number,
 *   ratingCount: number,
 *   ratingStats: { average: number | null, count: number },
 * }} Saved
 * @param {{
 *   movieId: number,
 *   title: string,
 *   value: number | null,
 *   onSaved?: (saved: Saved) => void,
 *   compact?: boolean,
 * }} options `compact` hides the legend visually (onboarding cards already show the title).
 * @returns {HTMLElement}
 */
export function starRating({ movieId, title, value, onSaved = () => {}, compact = false }) {
  const name = `rating-${movieId}-${++groupCount}`;
  const stars = [];
  for (let star = 1; star <= 5; star++) {
    const halves = [star - 0.5, star].map((v) => {
      const input = el("input", {
        type: "radio",
        name,
        value: String(v),
        className: v % 1 ? "half left" : "half right",
        checked: v === value,
        "aria-label": `Rate ${v} ${v === 1 ? "star" : "stars"}`,
      });
      input.addEventListener("pointerenter", () => paint(v));
      return input;
    });
    stars.push(el("span", { className: "star" }, ...halves));
  }
  const track = el("div", { className: "stars-track" }, ...stars);
  track.addEventListener("pointerleave", () => paint(current));
  const status = el("output", { className: "rating-status", "aria-live": "polite" });
  const fieldset = el(
    "fieldset",
    { className: compact ? "stars compact" : "stars" },
    el(
      "legend",
      { className: compact ? "visually-hidden" : "" },
      compact ? `Your rating for ${title}` : "Your rating",
    ),
    track,
    status,
  );

  let current = value;
  let saved = value;
  let timer = 0;
  let queue = Promise.resolve();

  function paint(shown) {
    stars.forEach((star, i) => {
      const fill = shown === null ? 0 : Math.min(Math.max(shown - i, 0), 1);
      star.dataset.fill = fill === 1 ? "full" : fill === 0.5 ? "half" : "empty";
    });
  }

  function describe(rating) {
    status.textContent = rating === null ? "Not rated yet" : `You rated this ${rating} of 5`;
  }

  async function save(rating) {
    status.textContent = "Saving…";
    try {
      const { rateMovie: result } = await gql(RATE_MOVIE, { movieId, rating });
      if (result.__typename !== "RatingPayload") throw new Error(result.message);
      saved = result.rating;
      describe(saved);
      onSaved({
        rating: result.rating,
        ratingCount: result.viewer.ratingCount,
        ratingStats: result.movie.ratingStats,
      });
    } catch (error) {
      // Show the rating the server still has, not the one that failed.
      current = saved;
      for (const input of fieldset.elements) input.checked = Number(input.value) === saved;
      paint(saved);
      status.textContent = `Not saved: ${error.message}`;
    }
  }

  fieldset.addEventListener("change", (event) => {
    current = Number(event.target.value);
    paint(current);
    clearTimeout(timer);
    timer = setTimeout(() => {
      const rating = current;
      queue = queue.then(() => save(rating));
    }, SAVE_DELAY_MS);
  });

  paint(current);
  describe(current);
  return fieldset;
}
