// A real OpenID Connect provider on loopback for the tests (tests/support/oidc_provider.py starts
// it): panva's oidc-provider with devInteractions, so any login name signs in. The login name
// decides the account: `name@example.com` (email verified), `unverified:name@example.com`,
// `noemail:name`. Configuration from the environment: PORT, ISSUER, CLIENTS (JSON), JWKS (JSON,
// private keys: the tests mint their own tokens with the same key).
import Provider from "oidc-provider";

const issuer = process.env.ISSUER;
const port = Number(process.env.PORT);

function account(id) {
  const [kind, rest] = id.includes(":") ? id.split(/:(.*)/s) : ["verified", id];
  const claims = { sub: id };
  if (kind !== "noemail") {
    claims.email = rest;
    claims.email_verified = kind !== "unverified";
  }
  return { accountId: id, claims: async () => claims };
}

const provider = new Provider(issuer, {
  clients: JSON.parse(process.env.CLIENTS),
  jwks: JSON.parse(process.env.JWKS),
  features: { devInteractions: { enabled: true } },
  pkce: { required: () => true },
  claims: { openid: ["sub"], email: ["email", "email_verified"] },
  // Scope claims (email) in the ID token as well as in userinfo, as Google puts them.
  conformIdTokenClaims: process.env.CONFORM_ID_TOKEN_CLAIMS === "true",
  findAccount: async (ctx, id) => account(id),
  cookies: { keys: ["test-only-cookie-key"] },
  ttl: { AuthorizationCode: 60, IdToken: 3600, AccessToken: 3600, Interaction: 600, Session: 600, Grant: 600 },
});
provider.proxy = false;
provider.listen(port, "127.0.0.1", () => console.log(`listening ${issuer}`));
