// The API client of server components: straight to API_URL (fixed by `next build`), carrying the
// browser's access cookie. Server components cannot set cookies, so refreshing happens earlier,
// in src/proxy.ts.
import { cookies } from "next/headers";
import createClient from "openapi-fetch";

import { ACCESS_COOKIE } from "./cookies";
import type { components, paths } from "./schema";

export type User = components["schemas"]["UserOut"];
export type AuthSession = components["schemas"]["AuthSessionOut"];

export async function serverApi() {
  const access = (await cookies()).get(ACCESS_COOKIE)?.value;
  return createClient<paths>({
    baseUrl: process.env.API_URL,
    headers: access ? { Cookie: `${ACCESS_COOKIE}=${access}` } : {},
    cache: "no-store",
  });
}
