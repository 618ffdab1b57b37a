// The only way the app talks to the server: GraphQL over fetch, with the session's bearer token.
// Errors of every kind (network, HTTP, GraphQL) become one ApiError with a machine-readable code,
// so screens show the server's message and never need to know which layer failed.

import { clearToken, getToken } from "./session.js";

/** Fired on window when the server no longer accepts the token; the router goes to Login and
 * back to the same page after signing in again. */
export const SIGNED_OUT_EVENT = "movierec:signed-out";

export class ApiError extends Error {
  /**
   * @param {string} message text fit to show the user
   * @param {string} code e.g. "UNAUTHENTICATED", "BAD_USER_INPUT", "NETWORK_ERROR"
   */
  constructor(message, code) {
    super(message);
    this.name = "ApiError";
    this.code = code;
  }
}

/**
 * Runs one GraphQL operation and returns its `data`.
 * @param {string} query
 * @param {Record<string, unknown>} [variables]
 * @returns {Promise<any>}
 */
export async function gql(query, variables = {}) {
  const headers = { "Content-Type": "application/json", Accept: "application/json" };
  const token = getToken();
  if (token) headers.Authorization = `Bearer ${token}`;

  let response;
  try {
    response = await fetch("/graphql", {
      method: "POST",
      headers,
      body: JSON.stringify({ query, variables }),
    });
  } catch {
    throw new ApiError(
      "Cannot reach the movierec server. Check your connection and try again.",
      "NETWORK_ERROR",
    );
  }

  const httpError = () =>
    new ApiError(`The server answered with an error (HTTP ${response.status}).`, "BAD_RESPONSE");
  let body;
  try {
    body = await response.json();
  } catch {
    throw httpError();
  }

  const [first] = body.errors ?? [];
  if (first) {
    const code = first.extensions?.code ?? "GRAPHQL_ERROR";
    if (code === "UNAUTHENTICATED") signOutLocally();
    throw new ApiError(first.message, code);
  }
  if (!response.ok || !body.data) throw httpError();
  return body.data;
}

/** Drops the token and tells the router, for a token the server rejected or a signed-out viewer. */
export function signOutLocally() {
  clearToken();
  window.dispatchEvent(new CustomEvent(SIGNED_OUT_EVENT));
}

/**
 * Fields that need no account answer a revoked or expired token as if nobody were signed in
 * (`viewerRating: null`, "Not rated yet"), so every screen also asks for `viewer { id }` and
 * passes the answer here: a null viewer means the session has ended on the server.
 * @param {{ viewer?: object | null }} data
 * @returns {boolean} true when the viewer is still signed in
 */
export function stillSignedIn(data) {
  if (data.viewer !== null) return true;
  signOutLocally();
  return false;
}
