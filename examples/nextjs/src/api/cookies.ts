// The API's cookie names (cookie mode). `__Host-` makes the browser insist on Secure, Path=/ and no
// Domain, so no other host (a sibling subdomain included) can plant or overwrite them.
export const ACCESS_COOKIE = "__Host-access";
export const REFRESH_COOKIE = "__Host-refresh";

// The header that asks the API for cookies instead of a refresh token in the body. On requests
// authenticated by a cookie it is also the API's CSRF check: no cross-site form can send it, and
// a script on another origin cannot without a CORS preflight the API refuses.
export const COOKIE_TRANSPORT = { "X-Auth-Transport": "cookie" } as const;

/** The `name=value` pairs of Set-Cookie headers, for a request made before the browser sees them. */
export function cookiePairs(setCookies: string[]): Map<string, string> {
  const pairs = new Map<string, string>();
  for (const header of setCookies) {
    const pair = header.split(";", 1)[0];
    const equals = pair.indexOf("=");
    if (equals > 0) pairs.set(pair.slice(0, equals).trim(), pair.slice(equals + 1).trim());
  }
  return pairs;
}
