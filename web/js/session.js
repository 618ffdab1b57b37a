// The sign-in token, kept in sessionStorage: it lasts as long as the browser tab ("the token kept
// for the session") and is gone when the tab closes, so a shared computer forgets the account.

const TOKEN_KEY = "movierec.token";

/** @returns {string | null} */
export function getToken() {
  return sessionStorage.getItem(TOKEN_KEY);
}

/** @param {string} token */
export function setToken(token) {
  sessionStorage.setItem(TOKEN_KEY, token);
}

export function clearToken() {
  sessionStorage.removeItem(TOKEN_KEY);
}
