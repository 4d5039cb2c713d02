// The API client of the browser: same origin (next.config.ts rewrites /api/auth/* to the API), so
// the API's HttpOnly cookies are this site's own and no token is ever handed to JavaScript.
import createClient from "openapi-fetch";

import { COOKIE_TRANSPORT } from "./cookies";
import type { components, paths } from "./schema";

// In cookie mode the API answers SessionCookieOut (no refresh token); the document lists both.
export type Session = components["schemas"]["SessionCookieOut"] | components["schemas"]["SessionOut"];
export type Challenge = components["schemas"]["SigninChallengeOut"];

export const api = createClient<paths>({
  credentials: "same-origin",
  headers: COOKIE_TRANSPORT,
});

/** One sentence for an error answer: the API's `detail`, each invalid field's message, or the status. */
export function problem(error: unknown, response: Response): string {
  if (response.status === 429) {
    const wait = response.headers.get("Retry-After");
    return wait ? `Too many attempts: try again in ${wait} s.` : "Too many attempts: try again later.";
  }
  const detail = (error as { detail?: unknown } | undefined)?.detail;
  if (typeof detail === "string") return detail;
  if (Array.isArray(detail)) {
    return detail.map((item: { msg?: unknown }) => String(item.msg ?? "Invalid value")).join(" ");
  }
  return `The server answered ${response.status}.`;
}

/** A session answer or the second-factor challenge (sign-in, reset confirm, provider exchange). */
export function isChallenge(answer: Session | Challenge): answer is Challenge {
  return "mfa_required" in answer && answer.mfa_required === true;
}
