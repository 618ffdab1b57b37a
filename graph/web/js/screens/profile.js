// Profile: who is signed in, how many movies they rated, and signing out (the token is dropped
// here even if the server cannot be told, and every other open tab follows: session.js).

import { gql, stillSignedIn } from "../api.js";
import { el, errorBox, loading } from "../dom.js";
import { clearToken } from "../session.js";

const PROFILE = /* GraphQL */ `query Profile { viewer { id username ratingCount } }`;
const LOGOUT = /* GraphQL */ `mutation Logout { logout }`;

/** @param {HTMLElement} view */
export function renderProfile(view) {
  const body = el("div", { className: "profile" }, loading());
  const signOut = el("button", { type: "button", className: "button" }, "Sign out");
  signOut.addEventListener("click", async () => {
    signOut.disabled = true;
    try {
      await gql(LOGOUT);
    } catch {
      // Signing out must work offline too: the local token goes either way.
    }
    clearToken();
    location.hash = "#/login";
  });
  view.append(el("h1", { tabIndex: -1 }, "Profile"), body, signOut);

  async function load() {
    body.replaceChildren(loading());
    try {
      const data = await gql(PROFILE);
      if (!stillSignedIn(data)) return;
      const { viewer } = data;
      body.replaceChildren(
        el(
          "dl",
          {},
          el("dt", {}, "Username"),
          el("dd", { "data-field": "username" }, viewer.username),
          el("dt", {}, "Movies rated"),
          el("dd", { "data-field": "rating-count" }, viewer.ratingCount),
        ),
        el("p", {}, el("a", { href: "#/ratings" }, "See all your ratings")),
        el("p", {}, el("a", { href: "#/onboarding" }, "Rate more popular movies")),
      );
    } catch (error) {
      body.replaceChildren(errorBox(error, load));
    }
  }
  return load();
}
