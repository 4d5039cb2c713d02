"""A real OpenID Connect provider for the session (panva's oidc-provider on loopback) and the
API configured to use it as `acme`."""

import shutil
from collections.abc import Iterator

import pytest
from django.test import override_settings

from tests.conftest import missing_tool
from tests.mfa.helpers import clock
from tests.support.oidc_provider import (
    CLIENT_ID,
    CLIENT_SECRET,
    NATIVE_CLIENT_ID,
    OidcProvider,
    oidc_modules,
    oidc_provider_start,
)
from toolkit.identity_providers import IdentityProviderConfig

__all__ = ["clock"]
# The in-process API's callback (tests.conftest's `api` client is on http://localhost).
REDIRECT_URI = "http://localhost/api/auth/providers/acme/callback"


@pytest.fixture(scope="session")
def oidc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OidcProvider]:
    npm = shutil.which("npm")
    if shutil.which("node") is None or npm is None:
        missing_tool("node/npm")
    assert npm is not None
    oidc_modules(npm)
    provider = oidc_provider_start(tmp_path_factory.mktemp("oidc"), redirect_uris=[REDIRECT_URI])
    yield provider
    provider.stop()


def acme(issuer: str, **changes: object) -> IdentityProviderConfig:
    config = IdentityProviderConfig(
        id="acme",
        kind="oidc",
        name="Acme",
        issuer=issuer,
        client_ids=(CLIENT_ID, NATIVE_CLIENT_ID),
        client_secret=CLIENT_SECRET,
        scopes="openid email",
    )
    return IdentityProviderConfig(**{**config.__dict__, **changes})


@pytest.fixture
def providers(oidc: OidcProvider) -> Iterator[OidcProvider]:
    """The API with `acme` configured, against the running provider."""
    with override_settings(
        SOCIAL_PROVIDERS=(acme(oidc.issuer),),
        API_PUBLIC_URL="",
        FRONTEND_SOCIAL_CALLBACK_URL="http://localhost:3000/auth/callback",
    ):
        yield oidc
