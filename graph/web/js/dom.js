// Building DOM without innerHTML: every piece of text from the server goes in as a text node,
// so a title like "<script>" is shown, never run.

/**
 * Creates an element. `props` go on as properties (className, href, onclick, hidden, ...),
 * except keys containing a dash (aria-*, data-*), which are set as attributes.
 * Children that are null, undefined or false are left out, so conditional parts read inline.
 * @param {string} tag
 * @param {Record<string, any>} [props]
 * @param {...(Node | string | number | null | undefined | false)} children
 * @returns {HTMLElement}
 */
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.includes("-")) node.setAttribute(key, value === true ? "" : String(value));
    else node[key] = value;
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

/**
 * A loading placeholder: grey shapes where the content will be (so the page does not jump when it
 * arrives), and a polite "Loading…" that only screen readers hear.
 * @param {"cards" | "block"} [shape] a row of card shapes, or a block of text lines
 */
export function loading(shape = "block") {
  const shapes =
    shape === "cards"
      ? el(
          "ul",
          { className: "row skeleton-row", "aria-hidden": "true" },
          ...Array.from({ length: 8 }, () =>
            el("li", {}, el("div", { className: "skeleton skeleton-poster" })),
          ),
        )
      : el(
          "div",
          { className: "skeleton-block", "aria-hidden": "true" },
          el("div", { className: "skeleton skeleton-line" }),
          el("div", { className: "skeleton skeleton-line" }),
          el("div", { className: "skeleton skeleton-line short" }),
        );
  return el(
    "div",
    { className: "loading", role: "status" },
    el("span", { className: "visually-hidden" }, "Loading…"),
    shapes,
  );
}

/**
 * The error state of a screen or a row: the server's message and, when given, a retry button.
 * @param {Error} error
 * @param {() => void} [retry]
 */
export function errorBox(error, retry) {
  return el(
    "div",
    { className: "error-box", role: "alert" },
    el("p", {}, error.message || "Something went wrong."),
    retry && el("button", { type: "button", className: "button", onclick: retry }, "Try again"),
  );
}

/** "1999" or "" — years are missing for a few MovieLens titles. */
export function yearText(year) {
  return year ? String(year) : "";
}
