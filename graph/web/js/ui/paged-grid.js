// A full list of movie cards read page by page from a GraphQL connection ("See all", search
// results, the viewer's ratings): the first page, then "Show more" for each next one, as long as
// the connection says there is one. The keyboard lands on the first new card after each page.

import { el, errorBox, loading } from "../dom.js";
import { movieCard } from "./movie-card.js";

/**
 * @typedef {import("./movie-row.js").RowMovie} RowMovie
 * @typedef {{
 *   movies: RowMovie[],
 *   totalCount: number,
 *   endCursor: string | null,
 *   hasNextPage: boolean,
 * }} Page
 * @param {{
 *   label: string,
 *   load: (after: string | null) => Promise<Page | null>,
 *   empty: () => Node | string,
 *   noun?: [string, string],
 * }} options `load` reads the page after the cursor (null: the first page), or resolves to null
 *   when the screen has moved on; `noun` is singular and plural, for "Showing 20 of 153 movies"
 * @returns {{ element: HTMLElement, ready: Promise<void> }}
 */
export function pagedGrid({ label, load, empty, noun = ["movie", "movies"] }) {
  const grid = el("ul", { className: "grid", "aria-label": label });
  const count = el("p", { className: "status count", role: "status" });
  const more = el("button", { type: "button", className: "button" }, "Show more");
  const footer = el("div", { className: "pager" }, more);
  const body = el("div", { className: "paged", "aria-busy": "true" }, loading("cards"));
  const element = el("div", {}, count, body);
  let cursor = null;
  let shown = 0;

  function describe(total) {
    const word = total === 1 ? noun[0] : noun[1];
    count.textContent =
      shown >= total ? `${total} ${word}` : `Showing ${shown} of ${total} ${word}`;
  }

  async function next() {
    more.disabled = true;
    more.textContent = "Loading…";
    let page;
    try {
      page = await load(cursor);
    } catch (error) {
      footer.replaceChildren(
        errorBox(error, () => {
          footer.replaceChildren(more);
          next();
        }),
      );
      if (shown === 0) body.replaceChildren(footer);
      return;
    } finally {
      more.disabled = false;
      more.textContent = "Show more";
      body.removeAttribute("aria-busy");
    }
    if (page === null) return;
    if (shown === 0 && page.movies.length === 0) {
      count.textContent = "";
      body.replaceChildren(el("p", { className: "status" }, empty()));
      return;
    }
    const cards = page.movies.map((m) => el("li", {}, movieCard(m, { rating: m.ownRating })));
    grid.append(...cards);
    const firstNew = shown > 0 ? cards[0]?.querySelector("a") : null;
    shown += cards.length;
    cursor = page.endCursor;
    describe(page.totalCount);
    if (page.hasNextPage) footer.replaceChildren(more);
    else footer.replaceChildren();
    if (body.firstChild !== grid) body.replaceChildren(grid, footer);
    firstNew?.focus();
  }

  more.addEventListener("click", next);
  return { element, ready: next() };
}
