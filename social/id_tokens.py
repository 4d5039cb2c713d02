"""The checks of an OpenID Connect ID token (Core 1.0, section 3.1.3.7), every JOSE step done by
joserfc: the signature with the provider's published keys and algorithms only (never `none`,
never HMAC), then `iss`, `aud`, `azp`, `exp`, `iat`, `sub` and the `nonce`."""

from collections.abc import Collection
from typing import Any

from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from social.exceptions import InvalidIdToken

CLOCK_LEEWAY = 60  # seconds of clock skew between the provider and us


def id_token_header(token: str) -> dict[str, Any]:
    """The protected header, unverified: which key (`kid`) and algorithm (`alg`) it claims."""
    try:
        header = jws.extract_compact(token.encode()).headers()
    except (JoseError, ValueError, TypeError):
        raise InvalidIdToken from None
    if not isinstance(header, dict):
        raise InvalidIdToken
    return header


def id_token_claims(
    token: str,
    *,
    keys: KeySet,
    algorithms: Collection[str],
    issuer: str,
    audiences: Collection[str],
    nonce: str | None,
) -> dict[str, Any]:
    """The claims of a token that passes every check; InvalidIdToken otherwise. `algorithms`
    are the provider's published ones (social.providers keeps only those with a public key);
    `nonce` None: the token's nonce is not checked (a native app that sent none)."""
    header = id_token_header(token)
    if header.get("alg") not in algorithms:
        raise InvalidIdToken
    try:
        decoded = jwt.decode(token, keys, algorithms=list(algorithms))
        options: dict[str, Any] = {
            "iss": {"essential": True, "value": issuer},
            "sub": {"essential": True},
            "aud": {"essential": True, "values": list(audiences)},
            "exp": {"essential": True},
            "iat": {"essential": True},
        }
        if nonce is not None:
            options["nonce"] = {"essential": True, "value": nonce}
        jwt.JWTClaimsRegistry(leeway=CLOCK_LEEWAY, **options).validate(decoded.claims)
    except (JoseError, ValueError, TypeError):
        raise InvalidIdToken from None
    claims = decoded.claims
    audience = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
    azp = claims.get("azp")
    # Several audiences: the token must say which party it was issued to (section 3.1.3.7,
    # items 4 and 5), and that party must be one of our clients.
    if (len(audience) > 1 and azp is None) or (azp is not None and azp not in audiences):
        raise InvalidIdToken
    return claims
