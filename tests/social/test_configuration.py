"""Providers from the environment: each mistake is a one-line start-up error naming the variable."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from tests.project.test_settings import assert_one_line_error
from tests.support.commands import run_manage
from toolkit.identity_providers import identity_providers_from_env

ACME = {
    "SOCIAL_PROVIDERS": "acme",
    "SOCIAL_ACME_ISSUER": "https://id.acme.example",
    "SOCIAL_ACME_CLIENT_ID": "web,ios",
    "SOCIAL_ACME_CLIENT_SECRET": "s3cret-hunter2",
}


def providers(monkeypatch, variables: dict[str, str], *, production: bool = False):
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    return identity_providers_from_env("SOCIAL_PROVIDERS", production=production)


def test_no_providers_by_default(monkeypatch):
    monkeypatch.delenv("SOCIAL_PROVIDERS", raising=False)
    assert providers(monkeypatch, {}) == ()


def test_a_provider_with_its_defaults(monkeypatch):
    [acme] = providers(monkeypatch, ACME)
    assert (acme.id, acme.kind, acme.name, acme.scopes) == (
        "acme",
        "oidc",
        "Acme",
        "openid email profile",
    )
    assert acme.client_ids == ("web", "ios")
    assert acme.client_id == "web"


def test_github_needs_no_issuer(monkeypatch):
    [github] = providers(
        monkeypatch,
        {
            "SOCIAL_PROVIDERS": "github",
            "SOCIAL_GITHUB_KIND": "github",
            "SOCIAL_GITHUB_CLIENT_ID": "Iv1.abc",
            "SOCIAL_GITHUB_CLIENT_SECRET": "x",
        },
    )
    assert (github.issuer, github.name, github.scopes) == (
        "https://github.com",
        "GitHub",
        "read:user user:email",
    )


def test_plain_http_only_for_a_loopback_issuer_outside_production(monkeypatch):
    loopback = {**ACME, "SOCIAL_ACME_ISSUER": "http://127.0.0.1:9000"}
    assert providers(monkeypatch, loopback)[0].issuer == "http://127.0.0.1:9000"
    with pytest.raises(ImproperlyConfigured, match="SOCIAL_ACME_ISSUER must be an https://"):
        providers(monkeypatch, loopback, production=True)
    with pytest.raises(ImproperlyConfigured, match="SOCIAL_ACME_ISSUER must be an https://"):
        providers(monkeypatch, {**ACME, "SOCIAL_ACME_ISSUER": "http://id.acme.example"})


@pytest.mark.parametrize(
    ("changes", "fragment"),
    [
        ({"SOCIAL_ACME_ISSUER": ""}, "SOCIAL_ACME_ISSUER is required for provider 'acme'"),
        ({"SOCIAL_ACME_CLIENT_ID": ""}, "SOCIAL_ACME_CLIENT_ID is required"),
        ({"SOCIAL_ACME_CLIENT_SECRET": ""}, "SOCIAL_ACME_CLIENT_SECRET is required"),
        ({"SOCIAL_ACME_KIND": "saml"}, "SOCIAL_ACME_KIND must be one of oidc, github"),
        ({"SOCIAL_ACME_SCOPES": "email"}, "SOCIAL_ACME_SCOPES must include openid"),
        ({"SOCIAL_PROVIDERS": "Acme-Corp"}, "SOCIAL_PROVIDERS has 'Acme-Corp'"),
        ({"SOCIAL_PROVIDERS": "acme,acme"}, "SOCIAL_PROVIDERS has 'acme'"),
        ({"API_PUBLIC_URL": "api.example.com"}, "API_PUBLIC_URL has 'api.example.com'"),
        ({"FRONTEND_SOCIAL_CALLBACK_URL": "/auth/callback"}, "FRONTEND_SOCIAL_CALLBACK_URL must"),
    ],
)
def test_a_bad_provider_variable_is_one_line_naming_it_without_secrets(changes, fragment):
    result = run_manage("check", **{**ACME, **changes})
    assert_one_line_error(result, fragment)
    assert "hunter2" not in result.stderr + result.stdout
