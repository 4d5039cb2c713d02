"""GitHub's OAuth 2.0 (no ID token): the user's id and verified primary email from its API.
github.com's API lives at api.github.com; a GitHub Enterprise Server issuer (or a test's fake)
serves it at `<issuer>/api/v3`."""

from typing import Any

from social.exceptions import CallbackRefused, InvalidIdToken
from social.profiles import ProviderProfile
from social.providers import http_json
from toolkit.identity_providers import GITHUB_ISSUER, IdentityProviderConfig

API_VERSION = "2022-11-28"


def github_authorization_endpoint(provider: IdentityProviderConfig) -> str:
    return f"{provider.issuer.rstrip('/')}/login/oauth/authorize"


def github_api(provider: IdentityProviderConfig) -> str:
    if provider.issuer.rstrip("/") == GITHUB_ISSUER:
        return "https://api.github.com"
    return f"{provider.issuer.rstrip('/')}/api/v3"


async def github_profile(
    provider: IdentityProviderConfig, *, code: str, redirect_uri: str, verifier: str
) -> ProviderProfile:
    answer = await http_json(
        "POST",
        f"{provider.issuer.rstrip('/')}/login/oauth/access_token",
        data={
            "client_id": provider.client_id,
            "client_secret": provider.client_secret,
            "code": code,
            "redirect_uri": redirect_uri,
            "code_verifier": verifier,
        },
        headers={"Accept": "application/json"},
    )
    token = answer.get("access_token")
    if "error" in answer or not isinstance(token, str):
        # GitHub answers 200 with {"error": "bad_verification_code"} for a used or wrong code.
        raise CallbackRefused("invalid_grant")
    headers = {
        "Authorization": f"Bearer {token}",
        "Accept": "application/vnd.github+json",
        "X-GitHub-Api-Version": API_VERSION,
    }
    user = await http_json("GET", f"{github_api(provider)}/user", headers=headers)
    emails: Any = await http_json_list(f"{github_api(provider)}/user/emails", headers)
    if not isinstance(user.get("id"), int):
        raise InvalidIdToken
    primary = next(
        (
            entry
            for entry in emails
            if isinstance(entry, dict) and entry.get("primary") and entry.get("verified")
        ),
        None,
    )
    email = primary.get("email") if primary else None
    return ProviderProfile(
        issuer=provider.issuer,
        subject=str(user["id"]),
        email=email if isinstance(email, str) else None,
        email_verified=email is not None,
    )


async def http_json_list(url: str, headers: dict[str, str]) -> list[Any]:
    """GitHub's /user/emails answers a JSON array (http_json wants an object)."""
    answer = await http_json("GET", url, headers=headers, wrap_list=True)
    items = answer.get("items")
    return items if isinstance(items, list) else []
