/** A typed flow against a live server: sign-up, /me, and a 401 handled as a typed error. */
import createClient from "openapi-fetch";
import type { components, paths } from "./schema.js";

type SessionOut = components["schemas"]["SessionOut"];
type UserOut = components["schemas"]["UserOut"];
type ErrorOut = components["schemas"]["ErrorOut"];

const [baseUrl, email] = process.argv.slice(2);
if (baseUrl === undefined || email === undefined) {
  throw new Error("usage: node flow.js BASE_URL EMAIL");
}
const client = createClient<paths>({ baseUrl });

const signup = await client.POST("/api/auth/signup", {
  body: { email, password: "correct horse battery staple" },
});
if (signup.error !== undefined) {
  throw new Error(`sign-up: ${signup.response.status} ${JSON.stringify(signup.error)}`);
}
// Two documented shapes: a bearer client gets the refresh token in the body.
if (!("refresh_token" in signup.data)) {
  throw new Error("a bearer sign-up answered the cookie transport's shape");
}
const session: SessionOut = signup.data;
// Always sent, so the schema must mark it required: a plain "bearer", never undefined.
const tokenType: "bearer" = session.token_type;

const me = await client.GET("/api/auth/me", {
  headers: { Authorization: `Bearer ${session.access_token}` },
});
if (me.error !== undefined) {
  throw new Error(`me: ${me.response.status} ${JSON.stringify(me.error)}`);
}
const user: UserOut = me.data;

const denied = await client.GET("/api/auth/me", {
  headers: { Authorization: "Bearer not-a-token" },
});
if (denied.data !== undefined) {
  throw new Error("a malformed token was accepted");
}
const problem: ErrorOut = denied.error;

console.log(
  JSON.stringify({
    signup: { status: signup.response.status, tokenType, userId: session.user.id },
    me: { status: me.response.status, id: user.id, email: user.email },
    denied: {
      status: denied.response.status,
      detail: problem.detail,
      challenge: denied.response.headers.get("WWW-Authenticate"),
    },
  }),
);
