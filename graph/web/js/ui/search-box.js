// The header's search box: typing shows results as you go (after a short pause, so a word typed
// quickly is one request, not one per letter), Enter shows them at once. Results live at
// #/search?q=…, so they can be bookmarked, shared and reached with Back.

import { el } from "../dom.js";

const DEBOUNCE_MS = 250;

/**
 * @returns {{
 *   element: HTMLElement,
 *   sync: (text: string) => void,
 *   hasFocus: () => boolean,
 * }} `sync` shows the current search's text (or clears the box on other screens)
 */
export function searchBox() {
  const input = el("input", {
    id: "site-search",
    type: "search",
    name: "q",
    placeholder: "Search movies",
    autocomplete: "off",
    spellcheck: false,
    enterKeyHint: "search",
  });
  const form = el(
    "form",
    { className: "search-box", role: "search" },
    el("label", { htmlFor: "site-search", className: "visually-hidden" }, "Search movies"),
    input,
  );

  let timer = 0;
  function go() {
    clearTimeout(timer);
    const [path, search = ""] = location.hash.replace(/^#/, "").split("?");
    const params = new URLSearchParams(path === "/search" ? search : "");
    const text = input.value.trim();
    if (text === (params.get("q") ?? "")) return;
    if (text) params.set("q", text);
    else params.delete("q");
    const target = `#/search?${params}`;
    // One history entry per search, not one per pause in typing.
    if (path === "/search") location.replace(target);
    else location.hash = target;
  }
  input.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(go, DEBOUNCE_MS);
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    go();
  });

  return {
    element: form,
    sync: (text) => {
      if (document.activeElement !== input) input.value = text;
    },
    hasFocus: () => document.activeElement === input,
  };
}
