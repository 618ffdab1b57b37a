// The sign-in token and its expiry, kept in localStorage: every tab of this site shares it, so a
// new tab, a reload or a deep link keeps the session (issue 13). The expiry is the server's own
// (`AuthPayload.expiresAt`); a token past it is dropped before it is ever sent. Signing out
// removes it, and the `storage` event tells every other open tab, which then leaves too.
//
// A rating the viewer gave while the token had already ended is kept in this tab's
// sessionStorage until they sign in again, then saved (see `takePendingRating`).

const TOKEN_KEY = "movierec.session";
const PENDING_KEY = "movierec.pending-rating";

/** @returns {{ token: string, expiresAt: number, userId: number } | null} */
function readSession() {
  try {
    const session = JSON.parse(localStorage.getItem(TOKEN_KEY) ?? "null");
    if (typeof session?.token === "string" && typeof session.expiresAt === "number") return session;
  } catch {
    // A value another version of the app wrote: treated as signed out.
  }
  return null;
}

/** @returns {string | null} the token, or null when there is none or it has expired */
export function getToken() {
  const session = readSession();
  if (session === null) return null;
  if (session.expiresAt <= Date.now()) {
    clearToken();
    return null;
  }
  return session.token;
}

/**
 * @param {{ token: string, expiresAt: string, userId: number }} session `expiresAt` as the API
 *   sends it (ISO date-time); `userId` so a rating kept for later goes to the same account
 */
export function setToken({ token, expiresAt, userId }) {
  const session = { token, expiresAt: Date.parse(expiresAt), userId };
  localStorage.setItem(TOKEN_KEY, JSON.stringify(session));
}

/** @returns {number | null} the account of the stored session, expired or not */
export function getUserId() {
  return readSession()?.userId ?? null;
}

export function clearToken() {
  localStorage.removeItem(TOKEN_KEY);
}

/**
 * Calls `onChange(signedIn)` when another tab signs in or out (the `storage` event fires only
 * in the tabs that did not make the change).
 * @param {(signedIn: boolean) => void} onChange
 */
export function onOtherTabSessionChange(onChange) {
  window.addEventListener("storage", (event) => {
    if (event.key === TOKEN_KEY || event.key === null) onChange(getToken() !== null);
  });
}

/**
 * @typedef {{ movieId: number, title: string, rating: number, userId: number | null }} PendingRating
 * @param {PendingRating} pending a rating the server refused because the session had ended
 */
export function keepPendingRating(pending) {
  sessionStorage.setItem(PENDING_KEY, JSON.stringify(pending));
}

/** @returns {PendingRating | null} the kept rating, removed from storage */
export function takePendingRating() {
  const raw = sessionStorage.getItem(PENDING_KEY);
  sessionStorage.removeItem(PENDING_KEY);
  try {
    return raw ? JSON.parse(raw) : null;
  } catch {
    return null;
  }
}

/** @returns {PendingRating | null} the kept rating, left in storage */
export function peekPendingRating() {
  try {
    return JSON.parse(sessionStorage.getItem(PENDING_KEY) ?? "null");
  } catch {
    return null;
  }
}

const NOTICE_KEY = "movierec.notice";

/** @param {string} text a message for the next screen this tab shows (e.g. a saved rating) */
export function keepNotice(text) {
  sessionStorage.setItem(NOTICE_KEY, text);
}

/** @returns {string | null} the kept message, removed from storage */
export function takeNotice() {
  const text = sessionStorage.getItem(NOTICE_KEY);
  sessionStorage.removeItem(NOTICE_KEY);
  return text;
}
