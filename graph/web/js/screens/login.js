// Sign in and create account: one form, two configurations. Errors are the API's own typed
// messages (wrong password, name taken, too many attempts), shown as they come.
// Signing in returns to the page that asked for it (`?next=`), and saves a rating the viewer
// gave after their session had ended (session.js keeps it), saying whether it worked.

import { gql } from "../api.js";
import { el } from "../dom.js";
import { keepNotice, peekPendingRating, setToken, takePendingRating } from "../session.js";
import { RATE_MOVIE } from "../ui/star-rating.js";

const AUTH_FIELDS = /* GraphQL */ `
  __typename
  ... on AuthPayload { token expiresAt user { id } }
`;

const SIGN_IN = {
  title: "Sign in",
  submitLabel: "Sign in",
  busyLabel: "Signing in…",
  passwordAutocomplete: "current-password",
  mutation: /* GraphQL */ `
    mutation Login($username: String!, $password: String!) {
      result: login(username: $username, password: $password) {
        ${AUTH_FIELDS}
        ... on InvalidCredentials { message }
        ... on TooManyAttempts { message }
      }
    }
  `,
  next: "#/home",
  usernameHint: null,
  passwordHint: null,
  footer: () => [
    el(
      "p",
      { className: "hint" },
      "Try the demo account: ",
      el("kbd", {}, "user1"),
      " with password ",
      el("kbd", {}, "pass"),
      ".",
    ),
    el("p", {}, "New to movierec? ", el("a", { href: "#/signup" }, "Create an account")),
  ],
};

const SIGN_UP = {
  title: "Create your account",
  submitLabel: "Create account",
  busyLabel: "Creating account…",
  passwordAutocomplete: "new-password",
  mutation: /* GraphQL */ `
    mutation SignUp($username: String!, $password: String!) {
      result: signUp(username: $username, password: $password) {
        ${AUTH_FIELDS}
        ... on UsernameTaken { message }
        ... on InvalidUsername { message }
        ... on PasswordTooShort { message }
        ... on TooManyAttempts { message }
      }
    }
  `,
  next: "#/onboarding",
  usernameHint: "3 to 30 characters: lowercase letters, digits and underscores.",
  passwordHint: "At least 8 characters.",
  footer: () => [el("p", {}, "Already have an account? ", el("a", { href: "#/login" }, "Sign in"))],
};

/** Errors about the name put the cursor back in Username; the rest in Password. */
const USERNAME_ERRORS = new Set(["UsernameTaken", "InvalidUsername"]);

function signInNotice(query) {
  const pending = peekPendingRating();
  const ended = pending
    ? `Your session has ended. Sign in again to save your rating of ${pending.title} ` +
      `(${pending.rating} of 5).`
    : "Your session has ended. Please sign in again.";
  if (query.has("expired")) return ended;
  if (query.has("signedout")) return "You signed out in another window.";
  return "";
}

/**
 * Saves the rating given while signed out, and leaves a notice for the next screen either way.
 * A rating for another account's session is not this account's to save: it is dropped, and said.
 */
async function completePendingRating(userId) {
  const pending = takePendingRating();
  if (!pending) return;
  const what = `the rating of ${pending.title} (${pending.rating} of 5)`;
  if (pending.userId !== userId) {
    keepNotice(`${what[0].toUpperCase()}${what.slice(1)} was given in another account's session and was not saved.`);
    return;
  }
  try {
    const { rateMovie } = await gql(RATE_MOVIE, {
      movieId: pending.movieId,
      rating: pending.rating,
    });
    if (rateMovie.__typename !== "RatingPayload") throw new Error(rateMovie.message);
    keepNotice(`Signed in again: ${what} is saved.`);
  } catch (error) {
    keepNotice(`Sorry, ${what} was lost: ${error.message}`);
  }
}

/**
 * @param {HTMLElement} view
 * @param {{ query: URLSearchParams, next: string | null }} route `next`: the page asked for
 *   before signing in, already checked by the router to be one of this app's
 */
export function renderSignIn(view, { query, next }) {
  renderForm(view, { ...SIGN_IN, next: next ? `#${next}` : SIGN_IN.next }, signInNotice(query));
}

/** @param {HTMLElement} view */
export function renderSignUp(view) {
  renderForm(view, SIGN_UP, "");
}

function field({ id, label, type, autocomplete, hint }) {
  const hintId = `${id}-hint`;
  return el(
    "div",
    { className: "field" },
    el("label", { htmlFor: id }, label),
    el("input", {
      id,
      name: id,
      type,
      autocomplete,
      required: true,
      autocapitalize: "none",
      spellcheck: false,
      "aria-describedby": hint ? hintId : null,
    }),
    hint && el("p", { className: "hint", id: hintId }, hint),
  );
}

function renderForm(view, mode, notice) {
  const message = el("p", { className: "form-error", role: "alert" }, notice);
  const submit = el("button", { type: "submit", className: "button primary" }, mode.submitLabel);
  const form = el(
    "form",
    { className: "auth-form" },
    field({
      id: "username",
      label: "Username",
      type: "text",
      autocomplete: "username",
      hint: mode.usernameHint,
    }),
    field({
      id: "password",
      label: "Password",
      type: "password",
      autocomplete: mode.passwordAutocomplete,
      hint: mode.passwordHint,
    }),
    message,
    submit,
  );

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    submit.disabled = true;
    submit.textContent = mode.busyLabel;
    message.textContent = "";
    let errorType = "";
    try {
      const { result } = await gql(mode.mutation, {
        username: String(data.get("username")).trim(),
        password: String(data.get("password")),
      });
      if (result.__typename === "AuthPayload") {
        const userId = Number(result.user.id);
        setToken({ token: result.token, expiresAt: result.expiresAt, userId });
        await completePendingRating(userId);
        location.replace(mode.next);
        return;
      }
      errorType = result.__typename;
      message.textContent = result.message;
    } catch (error) {
      message.textContent = error.message;
    }
    submit.disabled = false;
    submit.textContent = mode.submitLabel;
    form.elements.namedItem(USERNAME_ERRORS.has(errorType) ? "username" : "password").focus();
  });

  view.append(
    el(
      "div",
      { className: "auth" },
      el("p", { className: "brand-large", "aria-hidden": "true" }, "movierec"),
      el("h1", { tabIndex: -1 }, mode.title),
      form,
      ...mode.footer(),
    ),
  );
  form.elements.namedItem("username").dataset.autofocus = "";
}
