// Movie pictures come from TMDB's image host, which may be unreachable (offline, blocked, a path
// TMDB no longer has). The title placeholder is always there underneath; an image covers it only
// once it has actually loaded, so a failed or still-loading picture never shows as a broken icon.

import { el } from "../dom.js";

/**
 * A picture frame trying `urls` in order (e.g. backdrop, then poster) over a title placeholder.
 * @param {{ urls: (string | null | undefined)[], title: string, className?: string }} options
 * @returns {HTMLElement}
 */
export function picture({ urls, title, className = "" }) {
  const frame = el(
    "div",
    { className: `picture ${className}`.trim() },
    el(
      "span",
      { className: "picture-fallback", "aria-hidden": "true" },
      el("span", { className: "picture-fallback-text" }, title),
    ),
  );
  const candidates = urls.filter(Boolean);
  if (candidates.length === 0) return frame;

  const img = el("img", { alt: "", decoding: "async", loading: "lazy" });
  img.addEventListener("load", () => frame.classList.add("is-loaded"));
  img.addEventListener("error", () => {
    const next = candidates.shift();
    if (next) img.src = next;
    else img.remove();
  });
  img.src = candidates.shift();
  frame.append(img);
  return frame;
}
