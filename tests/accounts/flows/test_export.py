"""GET /api/auth/me/export (fresh): everything kept about the caller as a download, live and revoked
sessions and events included, and never a secret, a hash or a token."""

from collections.abc import Iterator

import pytest

from accounts.models import EmailCode, EmailToken, RefreshToken, User
from audit.models import AuthEvent
from mfa import sealing
from mfa.models import RecoveryCode, TOTPDevice
from tests.accounts.helpers import bearer, signin, signup, verified_signup
from tests.mfa.helpers import MFA, clock, code, totp_on  # noqa: F401  # clock: a fixture

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgresql]
EXPORT = "/api/auth/me/export"


def values(document: object) -> Iterator[str]:
    """Every key and scalar value of a JSON document, as text."""
    if isinstance(document, dict):
        for key, value in document.items():
            yield str(key)
            yield from values(value)
    elif isinstance(document, list):
        for item in document:
            yield from values(item)
    elif document is not None:
        yield str(document)


async def test_the_export_holds_live_and_revoked_sessions_and_the_events(api):
    first = await signup(api, "exporter@example.com")
    second = await signin(api, "exporter@example.com")
    await api.post("/api/auth/signout", headers=bearer(second))
    response = await api.get(EXPORT, headers={**bearer(first), "User-Agent": "exporter/1.0"})
    assert response.status_code == 200, response.text
    assert response.headers["content-disposition"] == 'attachment; filename="account.json"'
    assert response.headers["cache-control"] == "no-store"
    document = response.json()
    assert set(document) == {
        *("exported_at", "user", "sessions", "events"),
        *("passkeys", "identities", "mfa"),
    }
    assert document["user"]["email"] == "exporter@example.com"
    assert document["passkeys"] == [] and document["identities"] == []
    assert document["mfa"] == {"totp": False, "recovery_codes_left": 0}
    sessions = document["sessions"]
    assert len(sessions) == 2
    assert [s["revoked_reason"] for s in sessions] == ["signout", None]
    assert sessions[0]["revoked_at"] is not None and sessions[1]["revoked_at"] is None
    assert sessions[0]["ip"] == "127.0.0.1"
    assert [e["type"] for e in document["events"]] == ["signout", "signin", "signup"]
    exported = await AuthEvent.objects.aget(type="data_exported")
    assert exported.user_agent == "exporter/1.0"


async def test_the_export_carries_no_secret_hash_or_token(api, clock):  # noqa: F811
    session = await verified_signup(api, "secretive@example.com")
    other = await signin(api, "secretive@example.com")
    secret, recovery_codes = await totp_on(api, session, clock)
    used = await api.post(
        f"{MFA}/recovery-codes", json={"code": code(secret, clock.step())}, headers=bearer(session)
    )
    assert used.status_code == 200
    recovery_codes = [*recovery_codes, *used.json()["recovery_codes"]]
    await api.post("/api/auth/email/code", json={"email": "secretive@example.com"})
    await api.post("/api/auth/email/verify/resend", headers=bearer(session))
    response = await api.get(EXPORT, headers=bearer(session))
    assert response.status_code == 200
    document = response.json()
    assert document["mfa"] == {"totp": True, "recovery_codes_left": 10}

    user = await User.objects.aget(email="secretive@example.com")
    device = await TOTPDevice.objects.aget(user=user)
    forbidden = {
        user.password,
        secret,
        device.secret_sealed,
        sealing.secret_open(device.secret_sealed),
        *recovery_codes,
        *(session[key] for key in ("access_token", "refresh_token")),
        *(other[key] for key in ("access_token", "refresh_token")),
        *[t async for t in RefreshToken.objects.values_list("token_hash", flat=True)],
        *[t async for t in EmailToken.objects.values_list("token_hash", flat=True)],
        *[c async for c in EmailCode.objects.values_list("code_hash", flat=True)],
        *[c async for c in RecoveryCode.objects.values_list("code_hash", flat=True)],
    }
    assert len(forbidden) > 30 and all(len(value) >= 8 for value in forbidden)
    for value in values(document):
        for secret_value in forbidden:
            assert secret_value not in value, (value, secret_value)
