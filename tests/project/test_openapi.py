"""OpenAPI at /api/openapi.json, checked as strict parsers and generated clients read it; docs at
/api/docs from bundled assets."""

import json
from typing import Any

import pytest
from openapi_spec_validator import validate

from tests.accounts.helpers import bearer, signup

pytestmark = pytest.mark.django_db(transaction=True)

AUTH = "/api/auth"
# What each operation can answer: the document must declare exactly these.
STATUSES = {
    ("get", "/health"): {"200"},
    ("get", "/health/ready"): {"200", "503"},
    ("post", f"{AUTH}/signup"): {"201", "400", "409", "413", "415", "422", "429", "503"},
    ("post", f"{AUTH}/signin"): {"200", "400", "401", "403", "413", "415", "422", "429", "503"},
    ("post", f"{AUTH}/refresh"): {"200", "400", "401", "403", "413", "415", "422", "429", "503"},
    ("post", f"{AUTH}/signout"): {"200", "400", "401", "403", "503"},
    ("get", f"{AUTH}/me"): {"200", "400", "401", "503"},
    ("post", f"{AUTH}/password"): {"200", "400", "401", "403", "413", "415", "422", "429", "503"},
    ("get", f"{AUTH}/sessions"): {"200", "400", "401", "503"},
    ("post", f"{AUTH}/sessions/revoke-others"): {"200", "400", "401", "403", "503"},
    ("delete", f"{AUTH}/sessions/{{session_id}}"): {"204", "400", "401", "403", "404", "503"},
    ("get", f"{AUTH}/events"): {"200", "400", "401", "422", "503"},
    ("post", f"{AUTH}/mfa/totp/setup"): {"200", "400", "401", "403", "409", "503"},
    ("post", f"{AUTH}/mfa/totp/confirm"): {
        *("200", "400", "401", "403", "409", "413", "415", "422", "429", "503"),
    },
    ("post", f"{AUTH}/mfa/totp/disable"): {
        *("200", "400", "401", "403", "413", "415", "422", "429", "503"),
    },
    ("post", f"{AUTH}/mfa/recovery-codes"): {
        *("200", "400", "401", "403", "413", "415", "422", "429", "503"),
    },
    ("post", f"{AUTH}/mfa/verify"): {"200", "400", "401", "413", "415", "422", "429", "503"},
    ("post", f"{AUTH}/email/verify"): {"200", "400", "413", "415", "422", "503"},
    ("post", f"{AUTH}/email/verify/resend"): {"202", "400", "401", "403", "429", "503"},
    ("post", f"{AUTH}/password/reset"): {"202", "400", "413", "415", "422", "429", "503"},
    ("post", f"{AUTH}/password/reset/confirm"): {"200", "400", "413", "415", "422", "503"},
    ("post", f"{AUTH}/email/change"): {
        "202",
        "400",
        "401",
        "403",
        "409",
        "413",
        "415",
        "422",
        "429",
        "503",
    },
    ("post", f"{AUTH}/email/change/confirm"): {"200", "400", "409", "413", "415", "422", "503"},
    ("post", f"{AUTH}/reauthenticate"): {
        *("200", "400", "401", "403", "413", "415", "422", "429", "503"),
    },
    ("post", f"{AUTH}/mfa/webauthn/options"): {
        *("200", "400", "401", "413", "415", "422", "429", "503"),
    },
    ("post", f"{AUTH}/passkeys/register/options"): {"200", "400", "401", "403", "409", "503"},
    ("post", f"{AUTH}/passkeys/register"): {
        *("201", "400", "401", "403", "409", "413", "415", "422", "503"),
    },
    ("get", f"{AUTH}/passkeys"): {"200", "400", "401", "503"},
    ("patch", f"{AUTH}/passkeys/{{passkey_id}}"): {
        *("200", "400", "401", "403", "404", "413", "415", "422", "503"),
    },
    ("delete", f"{AUTH}/passkeys/{{passkey_id}}"): {
        *("204", "400", "401", "403", "404", "409", "503"),
    },
    ("post", f"{AUTH}/passkeys/signin/options"): {"200", "400", "429", "503"},
    ("post", f"{AUTH}/passkeys/signin"): {
        *("200", "400", "401", "403", "413", "415", "422", "429", "503"),
    },
    ("post", f"{AUTH}/reauthenticate/options"): {"200", "400", "401", "403", "429", "503"},
    ("post", f"{AUTH}/email/code"): {"202", "400", "413", "415", "422", "429", "503"},
    ("post", f"{AUTH}/email/code/confirm"): {"200", "400", "413", "415", "422", "429", "503"},
    ("delete", f"{AUTH}/me"): {"202", "400", "401", "403", "503"},
    ("get", f"{AUTH}/me/export"): {"200", "400", "401", "503"},
    ("post", f"{AUTH}/me/restore"): {"200", "400", "413", "415", "422", "503"},
    ("get", f"{AUTH}/providers"): {"200", "400", "503"},
    ("post", f"{AUTH}/providers/{{provider_id}}/authorize"): {
        *("200", "400", "401", "403", "404", "413", "415", "422", "503"),
    },
    # A browser redirect: every outcome is a 302 to the frontend, with `?error=` when refused.
    ("get", f"{AUTH}/providers/{{provider_id}}/callback"): {"302", "400", "503"},
    ("post", f"{AUTH}/providers/exchange"): {"200", "400", "403", "413", "415", "422", "503"},
    ("post", f"{AUTH}/providers/{{provider_id}}/token"): {
        *("200", "400", "401", "403", "404", "409", "413", "415", "422", "503"),
    },
    ("get", f"{AUTH}/identities"): {"200", "400", "401", "503"},
    ("delete", f"{AUTH}/identities/{{identity_id}}"): {
        *("204", "400", "401", "403", "404", "409", "503"),
    },
}
# The routes that answer a session, and so may set the session cookies.
SESSION_ROUTES = [
    f"{AUTH}/signup",
    f"{AUTH}/signin",
    f"{AUTH}/refresh",
    f"{AUTH}/password",
    f"{AUTH}/password/reset/confirm",
    f"{AUTH}/mfa/verify",
    f"{AUTH}/email/code/confirm",
    f"{AUTH}/providers/exchange",
    f"{AUTH}/providers/{{provider_id}}/token",
    f"{AUTH}/passkeys/signin",
]


def refuse_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [key for key, _ in pairs]
    duplicates = {key for key in keys if keys.count(key) > 1}
    assert not duplicates, f"duplicate keys {duplicates} in an object with keys {keys}"
    return dict(pairs)


@pytest.fixture
async def schema(api):
    response = await api.get("/api/openapi.json")
    assert response.status_code == 200
    # Strict, as the docs page's YAML parser and openapi-typescript are: Python's json keeps
    # the last of two equal keys silently.
    return json.loads(response.content, object_pairs_hook=refuse_duplicate_keys)


def operations(schema):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            yield method, path, operation


async def test_openapi_document_passes_the_openapi_validator(schema):
    validate(schema)


async def test_openapi_lists_every_endpoint(schema):
    assert {(method, path) for method, path, _ in operations(schema)} == set(STATUSES)


async def test_openapi_declares_every_status_of_every_operation(schema):
    for method, path, operation in operations(schema):
        assert set(operation["responses"]) == STATUSES[method, path], (method, path)


async def test_openapi_declares_the_headers_each_status_carries(schema):
    declared = schema["components"]["headers"]
    for method, path, operation in operations(schema):
        for status, response in operation["responses"].items():
            headers = set(response.get("headers", {}))
            if status == "401":
                assert "WWW-Authenticate" in headers, (method, path)
            if status in ("429", "503"):
                assert "Retry-After" in headers, (method, path, status)
            if path.startswith(AUTH):
                assert {"Cache-Control", "Pragma"} <= headers, (method, path, status)
            assert "X-Request-ID" in headers, (method, path, status)
            for name, header in response.get("headers", {}).items():
                assert header == {"$ref": f"#/components/headers/{name}"}
                # Set-Cookie: in cookie mode only.
                assert declared[name]["required"] is (name != "Set-Cookie")


async def test_openapi_marks_as_required_every_field_always_sent(schema):
    sometimes_absent = {
        ("ValidationErrorItem", "ctx"),
        # ninja's pagination query parameters (GET /api/auth/events): a request, with defaults.
        ("Input", "limit"),
        ("Input", "offset"),
        ("Input", "before"),
        # Cookie mode: the refresh token comes in its cookie.
        ("RefreshIn", "refresh_token"),
        # One proof of the three.
        ("ReauthenticateIn", "password"),
        ("ReauthenticateIn", "code"),
        # A native app that gave the provider no nonce.
        ("IdTokenIn", "nonce"),
        ("ReauthenticateIn", "challenge_token"),
        ("ReauthenticateIn", "credential"),
        # One answer of the two.
        ("MfaVerifyIn", "code"),
        ("MfaVerifyIn", "credential"),
        # The server names a passkey after the device when the client does not.
        ("PasskeyRegisterIn", "name"),
    }
    for name, component in schema["components"]["schemas"].items():
        for field in component.get("properties", {}):
            if (name, field) not in sometimes_absent:
                assert field in component.get("required", []), (name, field)
    assert "token_type" in schema["components"]["schemas"]["SessionOut"]["required"]


async def test_openapi_gives_the_readiness_content_type(schema):
    ready = schema["paths"]["/health/ready"]["get"]["responses"]
    assert set(ready["200"]["content"]) == {"application/health+json"}
    assert set(ready["503"]["content"]) == {"application/health+json"}


async def test_every_answer_has_the_content_type_the_document_declares(api, schema):
    session = await signup(api, "typed@example.com")
    answers = [
        ("get", "/health", await api.get("/health")),
        ("get", "/health/ready", await api.get("/health/ready")),
        ("post", f"{AUTH}/signin", await api.post(f"{AUTH}/signin", json={"x": 1})),
        ("post", f"{AUTH}/signin", await api.post(f"{AUTH}/signin", content=b"x")),
        ("get", f"{AUTH}/me", await api.get(f"{AUTH}/me", headers=bearer(session))),
        ("get", f"{AUTH}/me", await api.get(f"{AUTH}/me")),
        (
            "post",
            f"{AUTH}/signup",
            await api.post(f"{AUTH}/signup", json={"email": "typed@example.com", "password": "x"}),
        ),
    ]
    for method, path, response in answers:
        declared = schema["paths"][path][method]["responses"][str(response.status_code)]
        assert response.headers["content-type"] in declared["content"], (path, response.text)


async def test_every_json_answer_says_one_content_type(api):
    session = await signup(api, "onetype@example.com")
    answers = [
        await api.get("/health"),
        await api.get(f"{AUTH}/me", headers=bearer(session)),
        await api.get(f"{AUTH}/me"),
        await api.get("/no/such/page"),
        await api.post(f"{AUTH}/signin", json={}),
        await api.post(f"{AUTH}/signin", content=b"{}", headers={"content-type": "text/plain"}),
        await api.delete("/health"),
    ]
    assert {response.headers["content-type"] for response in answers} == {"application/json"}


async def test_signin_documents_both_of_its_200_bodies(schema):
    answer = schema["paths"][f"{AUTH}/signin"]["post"]["responses"]["200"]
    union = answer["content"]["application/json"]["schema"]["anyOf"]
    assert {item["$ref"].rsplit("/", 1)[-1] for item in union} == {
        "SessionOut",
        "SessionCookieOut",
        "SigninChallengeOut",
    }
    challenge = schema["components"]["schemas"]["SigninChallengeOut"]
    assert set(challenge["required"]) == {"mfa_required", "mfa_token", "methods", "expires_in"}


async def test_reset_confirm_documents_the_session_and_the_challenge(schema):
    answer = schema["paths"][f"{AUTH}/password/reset/confirm"]["post"]["responses"]["200"]
    union = answer["content"]["application/json"]["schema"]["anyOf"]
    assert {item["$ref"].rsplit("/", 1)[-1] for item in union} == {
        "SessionOut",
        "SessionCookieOut",
        "SigninChallengeOut",
    }


async def test_session_routes_document_the_cookie_transport(schema):
    for path in SESSION_ROUTES:
        operation = schema["paths"][path]["post"]
        parameters = {(item["in"], item["name"]) for item in operation["parameters"]}
        assert ("header", "X-Auth-Transport") in parameters, path
        answered = next(status for status in operation["responses"] if status.startswith("2"))
        assert "Set-Cookie" in operation["responses"][answered]["headers"], path
    for path in (f"{AUTH}/refresh", f"{AUTH}/signout"):
        operation = schema["paths"][path]["post"]
        parameters = {(item["in"], item["name"]) for item in operation["parameters"]}
        assert ("cookie", "__Host-refresh") in parameters, path
        assert "Set-Cookie" in operation["responses"]["401"]["headers"], path
    # Account deletion clears both cookies.
    assert "Set-Cookie" in schema["paths"][f"{AUTH}/me"]["delete"]["responses"]["202"]["headers"]
    cookie_body = schema["components"]["schemas"]["SessionCookieOut"]
    assert "refresh_token" not in cookie_body["properties"]
    schemes = schema["components"]["securitySchemes"]
    assert {"type": "apiKey", "in": "cookie", "name": "__Host-access"} in schemes.values()
    assert {"type": "http", "scheme": "bearer"} in schemes.values()


async def test_operation_ids_name_what_generated_clients_call(schema):
    ids = {operation["operationId"] for _, _, operation in operations(schema)}
    assert {"signup", "signin", "refresh", "signout", "me", "password_change"} <= ids
    assert {
        "email_verify",
        "email_verify_resend",
        "password_reset",
        "password_reset_confirm",
        "email_change",
        "email_change_confirm",
    } <= ids


async def test_docs_page_uses_bundled_assets(api):
    response = await api.get("/api/docs")
    assert response.status_code == 200
    assert "cdn.jsdelivr" not in response.text and "unpkg" not in response.text


async def test_every_documented_operation_is_routed_to_its_method(api, schema):
    """Two routers declaring one path would leave the second one's methods 405: ninja serves a
    path from the first router that has it."""
    for method, path, _ in operations(schema):
        concrete = path.replace("{session_id}", "00000000-0000-0000-0000-000000000000")
        concrete = concrete.replace("{id}", "00000000-0000-0000-0000-000000000000")
        response = await api.request(method.upper(), concrete)
        assert response.status_code != 405, (method, path)
