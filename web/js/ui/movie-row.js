// A titled, horizontally scrolling row of movie cards that loads itself, with its own loading,
// empty and error states, so one failing row never blanks the whole screen.

import { el, errorBox, loading } from "../dom.js";
import { movieCard } from "./movie-card.js";

let rowCount = 0;

/**
 * @param {{
 *   heading: string,
 *   load: () => Promise<object[] | null>,
 *   empty: () => Node | string,
 * }} options `load` resolves to the movies, or null when the screen has already moved on
 *   (e.g. signed out); `empty` builds what shows when there are no movies.
 * @returns {{
 *   element: HTMLElement,
 *   reload: () => Promise<void>,
 *   setHeading: (text: string) => void,
 * }}
 */
export function movieRow({ heading, load, empty }) {
  const headingId = `row-heading-${++rowCount}`;
  const title = el("h2", { id: headingId }, heading);
  const body = el("div", { className: "row-body" });
  const element = el(
    "section",
    { className: "row-section", "aria-labelledby": headingId },
    title,
    body,
  );

  let generation = 0;
  async function reload() {
    const mine = ++generation;
    body.setAttribute("aria-busy", "true");
    body.replaceChildren(loading());
    try {
      const movies = await load();
      if (mine !== generation || movies === null) return;
      body.replaceChildren(
        movies.length === 0
          ? el("p", { className: "status" }, empty())
          : el("ul", { className: "row" }, ...movies.map((m) => el("li", {}, movieCard(m)))),
      );
    } catch (error) {
      if (mine === generation) body.replaceChildren(errorBox(error, reload));
    } finally {
      if (mine === generation) body.removeAttribute("aria-busy");
    }
  }

  reload();
  return { element, reload, setHeading: (text) => (title.textContent = text) };
}
