// The router: one index.html, screens chosen by the URL's hash (#/login, #/home, #/movie/1, ...),
// so the server only has to serve static files. Screens that need an account send a visitor
// without a token to Login; a token the server rejects (api.js) does the same.

import { SIGNED_OUT_EVENT } from "./api.js";
import { renderDetail } from "./screens/detail.js";
import { renderHome } from "./screens/home.js";
import { renderSignIn, renderSignUp } from "./screens/login.js";
import { renderOnboarding } from "./screens/onboarding.js";
import { renderProfile } from "./screens/profile.js";
import { getToken } from "./session.js";

const ROUTES = [
  { pattern: /^\/login$/, render: renderSignIn, title: "Sign in", signedOut: true },
  { pattern: /^\/signup$/, render: renderSignUp, title: "Create account", signedOut: true },
  { pattern: /^\/home$/, render: renderHome, title: "Home" },
  { pattern: /^\/movie\/(\d+)$/, render: renderDetail, title: "Movie" },
  { pattern: /^\/profile$/, render: renderProfile, title: "Profile" },
  { pattern: /^\/onboarding$/, render: renderOnboarding, title: "Welcome" },
];

const main = document.getElementById("app");
const topbar = document.querySelector(".topbar");

function show() {
  const [path, search = ""] = location.hash.replace(/^#/, "").split("?");
  const route = ROUTES.find((r) => r.pattern.test(path));
  const signedIn = getToken() !== null;
  if (!route) return location.replace(signedIn ? "#/home" : "#/login");
  if (route.signedOut && signedIn) return location.replace("#/home");
  if (!route.signedOut && !signedIn) return location.replace("#/login");

  document.title = `${route.title} – movierec`;
  topbar.hidden = !signedIn;
  for (const link of topbar.querySelectorAll("nav a")) {
    if (link.getAttribute("href") === `#${path}`) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }

  // A fresh element per visit: a slow request of the screen left behind writes into a
  // detached node, never into the screen now showing.
  const view = document.createElement("div");
  view.className = `screen screen-${route.title.toLowerCase().replace(/\s+/g, "-")}`;
  main.replaceChildren(view);
  const params = path.match(route.pattern).slice(1);
  route.render(view, { params, query: new URLSearchParams(search) });
  window.scrollTo(0, 0);
  (view.querySelector("[data-autofocus]") ?? view.querySelector("h1"))?.focus();
}

window.addEventListener("hashchange", show);
window.addEventListener(SIGNED_OUT_EVENT, () => location.replace("#/login?expired"));
// The skip link targets <main>; as a plain #app link it would be taken for a route.
document.querySelector("[data-skip-link]").addEventListener("click", (event) => {
  event.preventDefault();
  main.focus();
});
show();
