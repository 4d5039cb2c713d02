// Runs before /account renders. When the access cookie has expired (the browser dropped it at its
// Max-Age) but the refresh cookie is there, refresh once and hand the new cookies both to the page
// about to render (as request cookies) and to the browser (as Set-Cookie on this response).
import { NextResponse, type NextRequest } from "next/server";

import { ACCESS_COOKIE, COOKIE_TRANSPORT, REFRESH_COOKIE, cookiePairs } from "./api/cookies";

export const config = { matcher: ["/account/:path*"] };

export async function proxy(request: NextRequest) {
  if (request.cookies.has(ACCESS_COOKIE)) return NextResponse.next();
  const refreshToken = request.cookies.get(REFRESH_COOKIE)?.value;
  const signin = new URL("/signin", request.url);
  if (!refreshToken) return NextResponse.redirect(signin);

  const answer = await fetch(`${process.env.API_URL}/api/auth/refresh`, {
    method: "POST",
    headers: {
      ...COOKIE_TRANSPORT,
      Cookie: `${REFRESH_COOKIE}=${refreshToken}`,
      "User-Agent": request.headers.get("user-agent") ?? "",
    },
    cache: "no-store",
  });
  const setCookies = answer.headers.getSetCookie();
  let response: NextResponse;
  if (answer.ok) {
    for (const [name, value] of cookiePairs(setCookies)) request.cookies.set(name, value);
    const headers = new Headers(request.headers);
    headers.set("cookie", request.cookies.toString());
    response = NextResponse.next({ request: { headers } });
  } else {
    // Refused (the API clears both cookies on a 401) or unavailable: sign in again.
    response = NextResponse.redirect(signin);
  }
  for (const header of setCookies) response.headers.append("Set-Cookie", header);
  return response;
}
