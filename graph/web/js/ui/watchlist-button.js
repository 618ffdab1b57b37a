// Save a movie to watch later, or take it off the list: a toggle button (aria-pressed) that
// asks the API and shows the answer, not its own guess. Cards carry a compact one over the
// poster, kept out of the Tab order so each row stays one Tab stop (keyboard users save from the
// movie's page, whose button is a normal stop); the movie's page carries a labelled one.
// A change is announced on window (WATCHLIST_EVENT), so every toggle of the same movie on the
// screen follows it and Home refreshes its watchlist row at once.

import { gql } from "../api.js";
import { el } from "../dom.js";

const MUTATION = /* GraphQL */ `
  mutation Watchlist($movieId: Int!, $save: Boolean!) {
    add: addToWatchlist(movieId: $movieId) @include(if: $save) { ...Result }
    remove: removeFromWatchlist(movieId: $movieId) @skip(if: $save) { ...Result }
  }
  fragment Result on WatchlistResult {
    __typename
    ... on WatchlistPayload { saved }
    ... on UserError { message }
  }
`;

/** Fired on window once the server has saved or unsaved a movie: `detail` is
 * `{ movieId, saved }`. */
export const WATCHLIST_EVENT = "movierec:watchlist";

/**
 * @param {{ id: number, displayTitle: string, inWatchlist: boolean }} movie
 * @param {{ compact?: boolean }} [options]
 * @returns {HTMLElement} the button with its error line
 */
export function watchlistButton(movie, { compact = false } = {}) {
  let saved = movie.inWatchlist;
  const label = compact ? null : el("span", {});
  const button = el(
    "button",
    {
      type: "button",
      className: compact ? "save save-compact" : "button save",
      "aria-label": compact ? `Watchlist: ${movie.displayTitle}` : undefined,
      tabIndex: compact ? -1 : undefined,
    },
    el("span", { className: "save-mark", "aria-hidden": "true" }),
    label,
  );
  const error = el("span", { className: "save-error", role: "alert" });

  function show() {
    button.setAttribute("aria-pressed", String(saved));
    button.querySelector(".save-mark").textContent = saved ? "✓" : "+";
    if (label) label.textContent = saved ? " On your watchlist" : " Save to watchlist";
    button.title = saved ? "On your watchlist: click to remove" : "Save to watchlist";
  }

  button.addEventListener("click", async (event) => {
    event.preventDefault(); // a card's button sits inside the card, not inside its link
    button.disabled = true;
    error.textContent = "";
    try {
      const data = await gql(MUTATION, { movieId: movie.id, save: !saved });
      const result = data.add ?? data.remove;
      if (result.__typename !== "WatchlistPayload") throw new Error(result.message);
      window.dispatchEvent(
        new CustomEvent(WATCHLIST_EVENT, { detail: { movieId: movie.id, saved: result.saved } }),
      );
    } catch (failure) {
      error.textContent = `Could not update your watchlist: ${failure.message}`;
    } finally {
      button.disabled = false;
    }
  });
  /** Another toggle of this movie changed it (or this one did); a toggle left behind on a
   * screen no longer showing stops listening. */
  function follow(event) {
    if (!button.isConnected) {
      window.removeEventListener(WATCHLIST_EVENT, follow);
      return;
    }
    if (event.detail.movieId !== movie.id) return;
    saved = event.detail.saved;
    show();
  }
  window.addEventListener(WATCHLIST_EVENT, follow);
  show();
  return compact ? el("span", { className: "save-slot" }, button, error) : el("span", {}, button, error);
}
