// The viewer's own rating of a movie, 0.5 to 5 stars in half steps, saved with `rateMovie` and
// (on a movie's page) removed with `removeRating`.
// A radio group: one Tab stop per movie, arrow keys move between half stars, each half star is a
// real focusable input with a spoken name ("Rate 3.5 stars"). Arrow keys only choose: the rating
// is saved on Enter or Space, or on a click or tap, so arrowing from 1 to 4 stars is one save of
// 4, not three saves on the way (issue 13). Leaving the group unsaved puts the saved value back.
// Each star is a 44×44 px target (its two halves split it down the middle).
//
// When the session has ended, the rating is kept for this tab and saved after signing in again.

import { gql } from "../api.js";
import { el } from "../dom.js";
import { getUserId, keepPendingRating } from "../session.js";

export const RATE_MOVIE = /* GraphQL */ `
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

const REMOVE_RATING = /* GraphQL */ `
  mutation RemoveRating($movieId: Int!) {
    removeRating(movieId: $movieId) {
      __typename
      ... on RatingPayload {
        rating
        movie { ratingStats { average count } }
        viewer { ratingCount }
      }
      ... on MovieNotFound { message }
    }
  }
`;

const ARROWS = new Set(["ArrowLeft", "ArrowRight", "ArrowUp", "ArrowDown"]);

let groupCount = 0;

function starsText(rating) {
  return `${rating} ${rating === 1 ? "star" : "stars"}`;
}

/**
 * @typedef {{
 *   rating: number | null,
 *   ratingCount: number,
 *   ratingStats: { average: number | null, count: number },
 * }} Saved
 * @param {{
 *   movieId: number,
 *   title: string,
 *   value: number | null,
 *   onSaved?: (saved: Saved) => void,
 *   compact?: boolean,
 *   removable?: boolean,
 * }} options `compact` hides the legend visually (onboarding cards already show the title);
 *   `removable` adds "Remove rating" while there is one.
 * @returns {HTMLElement}
 */
export function starRating({
  movieId,
  title,
  value,
  onSaved = () => {},
  compact = false,
  removable = false,
}) {
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
        "aria-label": `Rate ${starsText(v)}`,
      });
      input.addEventListener("pointerenter", () => paint(v));
      return input;
    });
    stars.push(el("span", { className: "star" }, ...halves));
  }
  const track = el("div", { className: "stars-track" }, ...stars);
  track.addEventListener("pointerleave", () => paint(current));
  const status = el("output", { className: "rating-status", "aria-live": "polite" });
  const remove = el(
    "button",
    { type: "button", className: "button link remove-rating", hidden: true },
    "Remove rating",
  );
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
    removable && remove,
  );

  let current = value;
  let saved = value;
  let arrowing = false; // the next change comes from an arrow key
  let previewing = false; // an arrowed-to value is showing, not saved
  let queue = Promise.resolve();

  function paint(shown) {
    stars.forEach((star, i) => {
      const fill = shown === null ? 0 : Math.min(Math.max(shown - i, 0), 1);
      star.dataset.fill = fill === 1 ? "full" : fill === 0.5 ? "half" : "empty";
    });
  }

  function show(rating) {
    current = rating;
    for (const input of fieldset.querySelectorAll("input")) {
      input.checked = Number(input.value) === rating;
    }
    paint(rating);
    status.textContent = rating === null ? "Not rated yet" : `You rated this ${rating} of 5`;
    remove.hidden = rating === null;
  }

  /** Runs one mutation after the previous one, so the last click is the one that stays. */
  function send(run, rating) {
    const userId = getUserId(); // before the request: a refused token is dropped at once
    queue = queue.then(async () => {
      status.textContent = rating === null ? "Removing…" : "Saving…";
      try {
        const result = await run();
        if (result.__typename !== "RatingPayload") throw new Error(result.message);
        saved = result.rating;
        show(saved);
        onSaved({
          rating: result.rating,
          ratingCount: result.viewer.ratingCount,
          ratingStats: result.movie.ratingStats,
        });
      } catch (error) {
        // The session ended: the router is on its way to Login; this rating is saved after it.
        if (error.code === "UNAUTHENTICATED" && rating !== null) {
          keepPendingRating({ movieId, title, rating, userId });
        }
        // Show the rating the server still has, not the one that failed.
        show(saved);
        status.textContent = `Not saved: ${error.message}`;
      }
    });
  }

  function commit(rating) {
    arrowing = false;
    previewing = false;
    show(rating);
    send(() => gql(RATE_MOVIE, { movieId, rating }).then((d) => d.rateMovie), rating);
  }

  fieldset.addEventListener("keydown", (event) => {
    if (!(event.target instanceof HTMLInputElement)) return;
    if (ARROWS.has(event.key)) arrowing = true;
    if (event.key === "Enter" || event.key === " ") {
      event.preventDefault(); // Enter would submit a form; Space would check without a save
      commit(Number(event.target.value));
    }
  });
  fieldset.addEventListener("change", (event) => {
    current = Number(event.target.value);
    paint(current);
    if (arrowing) {
      status.textContent = `${starsText(current)}: press Enter to save`;
      arrowing = false;
      previewing = true;
    }
  });
  // A click or tap (detail > 0) saves; the clicks browsers make for arrow keys (detail 0) don't.
  fieldset.addEventListener("click", (event) => {
    if (event.target instanceof HTMLInputElement && event.detail > 0) {
      commit(Number(event.target.value));
    }
  });
  fieldset.addEventListener("focusout", (event) => {
    if (track.contains(/** @type {Node | null} */ (event.relatedTarget))) return;
    if (previewing) {
      previewing = false;
      show(saved);
    }
  });
  remove.addEventListener("click", () => {
    show(null);
    send(() => gql(REMOVE_RATING, { movieId }).then((d) => d.removeRating), null);
  });

  show(value);
  return fieldset;
}
