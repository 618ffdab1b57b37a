// A titled, horizontally scrolling row of movie cards that loads itself, with its own loading,
// empty and error states, so one failing row never blanks the whole screen. The row is one Tab
// stop (arrow keys move between its cards); "See all" leads to its full, paged list.

import { el, errorBox, loading } from "../dom.js";
import { movieCard } from "./movie-card.js";
import { rovingFocus } from "./roving.js";

let rowCount = 0;

/**
 * @typedef {{ id: number, displayTitle: string, year: number | null, posterUrl: string | null,
 *   ownRating?: number | null }} RowMovie `ownRating`: the viewer's stars, drawn on the card
 * @param {{
 *   heading: string,
 *   load: () => Promise<RowMovie[] | null>,
 *   empty: () => Node | string,
 *   seeAll?: { href: string, label: string } | null,
 * }} options `load` resolves to the movies, or null when the screen has already moved on
 *   (e.g. signed out); `empty` builds what shows when there are no movies.
 * @returns {{
 *   element: HTMLElement,
 *   reload: () => Promise<void>,
 *   ready: Promise<void>,
 *   setHeading: (text: string) => void,
 *   setSeeAll: (link: { href: string, label: string } | null) => void,
 * }} `ready` settles when the first load has finished, whatever its outcome
 */
export function movieRow({ heading, load, empty, seeAll = null }) {
  const headingId = `row-heading-${++rowCount}`;
  const title = el("h2", { id: headingId }, heading);
  const more = el("p", { className: "see-all" });
  const body = el("div", { className: "row-body" });
  const element = el(
    "section",
    { className: "row-section", "aria-labelledby": headingId },
    el("div", { className: "row-head" }, title, more),
    body,
  );

  function setSeeAll(link) {
    more.replaceChildren(
      link ? el("a", { href: link.href, "aria-label": link.label }, "See all") : "",
    );
  }

  let generation = 0;
  async function reload() {
    const mine = ++generation;
    body.setAttribute("aria-busy", "true");
    body.replaceChildren(loading("cards"));
    try {
      const movies = await load();
      if (mine !== generation || movies === null) return;
      if (movies.length === 0) {
        body.replaceChildren(el("p", { className: "status" }, empty()));
        return;
      }
      const list = el(
        "ul",
        { className: "row", "aria-label": title.textContent },
        ...movies.map((m) => el("li", {}, movieCard(m, { rating: m.ownRating }))),
      );
      rovingFocus(list, "a.card-link");
      body.replaceChildren(list);
    } catch (error) {
      if (mine === generation) body.replaceChildren(errorBox(error, reload));
    } finally {
      if (mine === generation) body.removeAttribute("aria-busy");
    }
  }

  setSeeAll(seeAll);
  const ready = reload();
  return {
    element,
    reload,
    ready,
    setHeading: (text) => (title.textContent = text),
    setSeeAll,
  };
}
