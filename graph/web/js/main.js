// The router: one index.html, screens chosen by the URL's hash (#/login, #/home, #/movie/1, ...),
// so the server only has to serve static files. Screens that need an account send a visitor
// without a token to Login, remembering the page asked for (`?next=`), and Login returns there;
// a token the server rejects (api.js) or a sign-out in another tab does the same.
//
// Each history entry remembers where the user came from (for "← Back") and how far they had
// scrolled (restored once the screen has loaded, so Back to Home lands where they left it).

import { SIGNED_OUT_EVENT } from "./api.js";
import { renderDetail } from "./screens/detail.js";
import { renderHome } from "./screens/home.js";
import { renderSignIn, renderSignUp } from "./screens/login.js";
import { renderOnboarding } from "./screens/onboarding.js";
import { renderProfile } from "./screens/profile.js";
import { renderRatings } from "./screens/ratings.js";
import { renderSearch } from "./screens/search.js";
import { RAILS, RECOMMENDED_PATH, railScreen, renderRecommended } from "./screens/see-all.js";
import { renderWatchlist } from "./screens/watchlist.js";
import { el } from "./dom.js";
import { getToken, onOtherTabSessionChange, takeNotice } from "./session.js";
import { searchBox } from "./ui/search-box.js";

const ROUTES = [
  { pattern: /^\/login$/, render: renderSignIn, title: "Sign in", signedOut: true },
  { pattern: /^\/signup$/, render: renderSignUp, title: "Create account", signedOut: true },
  { pattern: /^\/home$/, render: renderHome, title: "Home" },
  { pattern: /^\/movie\/(\d+)$/, render: renderDetail, title: "Movie" },
  { pattern: /^\/search$/, render: renderSearch, title: "Search" },
  { pattern: /^\/ratings$/, render: renderRatings, title: "Your ratings" },
  { pattern: /^\/watchlist$/, render: renderWatchlist, title: "Your watchlist" },
  ...RAILS.map((rail) => ({
    pattern: new RegExp(`^${rail.path}$`),
    render: railScreen(rail),
    title: rail.label,
  })),
  {
    pattern: new RegExp(`^${RECOMMENDED_PATH}$`),
    render: renderRecommended,
    title: "Recommended for you",
  },
  { pattern: /^\/profile$/, render: renderProfile, title: "Profile" },
  { pattern: /^\/onboarding$/, render: renderOnboarding, title: "Welcome" },
];

const main = document.getElementById("app");
const topbar = document.querySelector(".topbar");
const searchField = searchBox();
topbar.querySelector("nav").before(searchField.element);

/** Scroll positions by history entry (`history.state.entry`), kept while the tab lives. */
const scrollByEntry = new Map();
let currentEntry = "";
let currentPath = null;
history.scrollRestoration = "manual";

/** Whether `next` (from ?next=) is a page of this app a signed-in user may be sent to. */
function isSafeNext(next) {
  const route = ROUTES.find((r) => r.pattern.test(next.split("?")[0]));
  return route !== undefined && !route.signedOut;
}

/** @param {URLSearchParams} query @returns {string | null} the page to go to after sign-in */
function safeNext(query) {
  const next = query.get("next");
  return next && isSafeNext(next) ? next : null;
}

/** The path and query of the page showing now, to come back to after signing in. */
function here() {
  return location.hash.replace(/^#/, "");
}

/** @param {string} [reason] "expired" or "signedout": which notice Login shows */
function toLogin(reason) {
  const next = here();
  // Every failing request of a screen says so; the first one has already left for Login.
  if (/^\/(login|signup)\b/.test(next)) return;
  const params = [reason, next && isSafeNext(next) && `next=${encodeURIComponent(next)}`];
  const query = params.filter(Boolean).join("&");
  location.replace(query ? `#/login?${query}` : "#/login");
}

function show() {
  const [path, search = ""] = here().split("?");
  const route = ROUTES.find((r) => r.pattern.test(path));
  const signedIn = getToken() !== null;
  if (!route) return location.replace(signedIn ? "#/home" : "#/login");
  const query = new URLSearchParams(search);
  if (route.signedOut && signedIn) return location.replace(`#${safeNext(query) ?? "/home"}`);
  if (!route.signedOut && !signedIn) return toLogin();

  if (history.state?.entry === undefined) {
    // Unique across reloads too: entries made before a reload keep their state.
    const entry = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
    history.replaceState({ entry, from: currentPath }, "");
  }
  currentEntry = history.state.entry;
  currentPath = here();

  document.title = `${route.title} – movierec`;
  topbar.hidden = !signedIn;
  for (const link of topbar.querySelectorAll("nav a")) {
    if (link.getAttribute("href") === `#${path}`) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  searchField.sync(path === "/search" ? (query.get("q") ?? "") : "");

  // A fresh element per visit: a slow request of the screen left behind writes into a
  // detached node, never into the screen now showing.
  const view = document.createElement("div");
  view.className = `screen screen-${route.title.toLowerCase().replace(/\s+/g, "-")}`;
  main.replaceChildren(view);
  const params = path.match(route.pattern).slice(1);
  const ready = route.render(view, {
    params,
    query,
    next: safeNext(query),
    cameFrom: history.state.from,
  });
  const notice = takeNotice();
  if (notice) view.prepend(el("p", { className: "notice", role: "status" }, notice));
  const entry = currentEntry;
  const savedScroll = scrollByEntry.get(entry) ?? 0;
  window.scrollTo(0, 0);
  if (savedScroll > 0) {
    Promise.resolve(ready).then(() => {
      if (currentEntry === entry) window.scrollTo(0, savedScroll);
    });
  }
  // Typing in the header's search box must not lose the cursor to the results' heading.
  if (!searchField.hasFocus()) {
    (view.querySelector("[data-autofocus]") ?? view.querySelector("h1"))?.focus({
      preventScroll: true,
    });
  }
}

let scrollQueued = false;
window.addEventListener(
  "scroll",
  () => {
    if (scrollQueued) return;
    scrollQueued = true;
    requestAnimationFrame(() => {
      scrollQueued = false;
      scrollByEntry.set(currentEntry, window.scrollY);
    });
  },
  { passive: true },
);

window.addEventListener("hashchange", show);
window.addEventListener(SIGNED_OUT_EVENT, () => toLogin("expired"));
onOtherTabSessionChange((signedIn) => {
  if (!signedIn && currentPath !== null && !currentPath.startsWith("/login")) toLogin("signedout");
  else if (signedIn && /^\/(login|signup)/.test(currentPath ?? "")) show();
});
// The skip link targets <main>; as a plain #app link it would be taken for a route.
document.querySelector("[data-skip-link]").addEventListener("click", (event) => {
  event.preventDefault();
  main.focus();
});
show();
