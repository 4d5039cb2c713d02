"""TOTP setup, confirmation, codes (window, replay, throttle), disabling, recovery codes."""

import pytest

from accounts.models import User
from mfa.models import RecoveryCode, TOTPDevice
from mfa.sealing import secret_seal
from tests.accounts.helpers import ask_email_change, bearer, signup, verified_signup
from tests.mfa.helpers import MFA, code, totp_on
from toolkit.rates import Rate

pytestmark = pytest.mark.django_db(transaction=True)
PASSWORD = "correct horse battery staple"


async def test_setup_answers_secret_uri_and_inline_svg_and_stays_pending(api, clock):
    session = await verified_signup(api, "setup@example.com")
    response = await api.post(f"{MFA}/totp/setup", headers=bearer(session))
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert set(body) == {"secret", "otpauth_uri", "qr_svg"}
    assert body["otpauth_uri"].startswith("otpauth://totp/")
    assert f"secret={body['secret']}" in body["otpauth_uri"]
    assert "setup%40example.com" in body["otpauth_uri"]
    assert body["qr_svg"].startswith("<svg") and body["qr_svg"].rstrip().endswith("</svg>")
    device = await TOTPDevice.objects.aget(user__email="setup@example.com")
    assert device.confirmed_at is None
    assert body["secret"] not in device.secret_sealed  # sealed at rest


def test_sealed_secrets_open_with_a_fallback_key_after_rotation(settings):
    from mfa.sealing import secret_open, secret_seal

    sealed = secret_seal("JBSWY3DPEHPK3PXP")
    assert secret_open(sealed) == "JBSWY3DPEHPK3PXP"
    old_key = settings.SECRET_KEY
    settings.SECRET_KEY = "a-new-secret-key-" + "x" * 50
    settings.SECRET_KEY_FALLBACKS = [old_key]
    assert secret_open(sealed) == "JBSWY3DPEHPK3PXP"
    settings.SECRET_KEY_FALLBACKS = []
    from cryptography.fernet import InvalidToken

    with pytest.raises(InvalidToken):
        secret_open(sealed)


async def test_setup_again_replaces_an_unconfirmed_secret(api, clock):
    session = await verified_signup(api, "resetup@example.com")
    first = (await api.post(f"{MFA}/totp/setup", headers=bearer(session))).json()["secret"]
    second = (await api.post(f"{MFA}/totp/setup", headers=bearer(session))).json()["secret"]
    assert first != second
    stale = await api.post(
        f"{MFA}/totp/confirm", json={"code": code(first, clock.step())}, headers=bearer(session)
    )
    assert stale.status_code == 400
    assert stale.json() == {"detail": "Invalid code"}
    fresh = await api.post(
        f"{MFA}/totp/confirm", json={"code": code(second, clock.step())}, headers=bearer(session)
    )
    assert fresh.status_code == 200


async def test_confirm_returns_ten_distinct_recovery_codes_stored_only_hashed(api, clock):
    session = await verified_signup(api, "confirm@example.com")
    _, codes = await totp_on(api, session, clock)
    assert len(codes) == 10 and len(set(codes)) == 10
    stored = [row.code_hash async for row in RecoveryCode.objects.all()]
    assert len(stored) == 10
    assert not set(codes) & set(stored)
    assert all(len(value) == 64 for value in stored)


async def test_setup_when_totp_is_on_is_409(api, clock):
    session = await verified_signup(api, "twice@example.com")
    await totp_on(api, session, clock)
    response = await api.post(f"{MFA}/totp/setup", headers=bearer(session))
    assert response.status_code == 409
    assert response.json() == {"detail": "Two-factor authentication is already on"}


async def test_confirm_without_setup_is_400(api, clock):
    session = await verified_signup(api, "nosetup@example.com")
    response = await api.post(
        f"{MFA}/totp/confirm", json={"code": "123456"}, headers=bearer(session)
    )
    assert response.status_code == 400


@pytest.mark.parametrize(("offset", "accepted"), [(-2, False), (-1, True), (0, True), (1, True)])
async def test_codes_within_one_step_either_side_are_accepted_two_steps_are_not(
    api, clock, offset, accepted
):
    session = await verified_signup(api, f"window{offset + 2}@example.com")
    setup = await api.post(f"{MFA}/totp/setup", headers=bearer(session))
    secret = setup.json()["secret"]
    response = await api.post(
        f"{MFA}/totp/confirm",
        json={"code": code(secret, clock.step() + offset)},
        headers=bearer(session),
    )
    assert response.status_code == (200 if accepted else 400)


async def status_for_code(api, session: dict, endpoint: str, totp_code: str) -> int:
    """The status of posting `totp_code` to the second-factor `endpoint` as `session`."""
    response = await api.post(
        f"{MFA}/{endpoint}", json={"code": totp_code}, headers=bearer(session)
    )
    return response.status_code


async def test_a_code_two_steps_ahead_is_refused(api, clock):
    session = await verified_signup(api, "ahead@example.com")
    secret = (await api.post(f"{MFA}/totp/setup", headers=bearer(session))).json()["secret"]
    assert (
        await status_for_code(api, session, "totp/confirm", code(secret, clock.step() + 2)) == 400
    )


async def test_window_edges_follow_the_clock_at_a_step_boundary(api, clock):
    session = await verified_signup(api, "edge@example.com")
    secret = (await api.post(f"{MFA}/totp/setup", headers=bearer(session))).json()["secret"]
    step = clock.step()
    clock.now = (step + 2) * 30  # the first second of step + 2: step is now two behind
    assert await status_for_code(api, session, "totp/confirm", code(secret, step)) == 400
    clock.now -= 0.001  # the last instant of step + 1: step is one behind
    assert await status_for_code(api, session, "totp/confirm", code(secret, step)) == 200


async def test_a_used_code_is_refused_again_and_so_is_an_older_one(api, clock):
    session = await verified_signup(api, "replay@example.com")
    secret, _ = await totp_on(api, session, clock)
    now = code(secret, clock.step())
    assert await status_for_code(api, session, "recovery-codes", now) == 200
    assert await status_for_code(api, session, "recovery-codes", now) == 400  # replayed
    older = code(secret, clock.step() - 1)
    assert await status_for_code(api, session, "recovery-codes", older) == 400
    newer = code(secret, clock.step() + 1)
    assert await status_for_code(api, session, "recovery-codes", newer) == 200


async def test_regenerating_recovery_codes_kills_the_old_ones(api, clock):
    session = await verified_signup(api, "regen@example.com")
    secret, old_codes = await totp_on(api, session, clock)
    response = await api.post(
        f"{MFA}/recovery-codes", json={"code": code(secret, clock.step())}, headers=bearer(session)
    )
    new_codes = response.json()["recovery_codes"]
    assert len(new_codes) == 10 and not set(new_codes) & set(old_codes)
    clock.now += 30
    dead = await api.post(
        f"{MFA}/recovery-codes", json={"code": old_codes[0]}, headers=bearer(session)
    )
    assert dead.status_code == 400
    alive = await api.post(
        f"{MFA}/recovery-codes", json={"code": new_codes[0]}, headers=bearer(session)
    )
    assert alive.status_code == 200


async def test_wrong_codes_are_throttled_per_user_and_a_right_one_gives_its_count_back(
    api, clock, settings
):
    settings.RATE_LIMITS = True
    settings.RATE_LIMIT_MFA_FAILED = Rate(count=3, period=900)
    session = await verified_signup(api, "guesser@example.com")
    secret, _ = await totp_on(api, session, clock)
    right = await api.post(
        f"{MFA}/recovery-codes", json={"code": code(secret, clock.step())}, headers=bearer(session)
    )
    assert right.status_code == 200  # given back: the budget is still whole
    statuses = [
        (
            await api.post(
                f"{MFA}/recovery-codes", json={"code": "000000"}, headers=bearer(session)
            )
        ).status_code
        for _ in range(4)
    ]
    assert statuses == [400, 400, 400, 429]
    clock.now += 30
    refused = await api.post(
        f"{MFA}/recovery-codes", json={"code": code(secret, clock.step())}, headers=bearer(session)
    )
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) >= 1


async def test_disable_needs_the_current_password_and_a_code(api, clock):
    session = await verified_signup(api, "disable@example.com")
    secret, _ = await totp_on(api, session, clock)
    wrong_password = await api.post(
        f"{MFA}/totp/disable",
        json={"current_password": "not the password", "code": code(secret, clock.step())},
        headers=bearer(session),
    )
    assert wrong_password.status_code == 400
    assert wrong_password.json() == {"detail": "Current password is incorrect"}
    wrong_code = await api.post(
        f"{MFA}/totp/disable",
        json={"current_password": PASSWORD, "code": "000000"},
        headers=bearer(session),
    )
    assert wrong_code.status_code == 400
    assert await TOTPDevice.objects.filter(confirmed_at__isnull=False).aexists()
    response = await api.post(
        f"{MFA}/totp/disable",
        json={"current_password": PASSWORD, "code": code(secret, clock.step())},
        headers=bearer(session),
    )
    assert response.status_code == 200
    assert response.json() == {"message": "Two-factor authentication is off"}
    assert not await TOTPDevice.objects.aexists()
    assert not await RecoveryCode.objects.aexists()
    signin = await api.post(
        "/api/auth/signin", json={"email": "disable@example.com", "password": PASSWORD}
    )
    assert "access_token" in signin.json()


async def test_disable_accepts_a_recovery_code(api, clock):
    session = await verified_signup(api, "lostphone@example.com")
    _, codes = await totp_on(api, session, clock)
    response = await api.post(
        f"{MFA}/totp/disable",
        json={"current_password": PASSWORD, "code": codes[3]},
        headers=bearer(session),
    )
    assert response.status_code == 200


async def test_disable_when_off_is_400(api, clock):
    session = await signup(api, "alreadyoff@example.com")
    response = await api.post(
        f"{MFA}/totp/disable",
        json={"current_password": PASSWORD, "code": "123456"},
        headers=bearer(session),
    )
    assert response.status_code == 400
    assert await User.objects.filter(email="alreadyoff@example.com").aexists()


async def test_turning_totp_on_ends_a_pending_email_change(api, clock):
    from tests.support.mail import link_token, only_message_to

    session = await verified_signup(api, "strengthened@example.com")
    asked = await ask_email_change(api, session, "asked.before@example.com", PASSWORD)
    assert asked.status_code == 202
    token = link_token(
        only_message_to("asked.before@example.com", "Confirm your new email address")
    )
    await totp_on(api, session, clock)
    response = await api.post("/api/auth/email/change/confirm", json={"token": token})
    assert response.status_code == 400
    assert (await User.objects.aget(pk=session["user"]["id"])).email == "strengthened@example.com"


async def test_an_unverified_account_cannot_set_up_totp(api):
    """Someone who signed up with another person's address must not put their authenticator on
    the account before its owner proves the mailbox."""
    session = await signup(api, "squatter@example.com")
    response = await api.post(f"{MFA}/totp/setup", headers=bearer(session))
    assert response.status_code == 403
    assert response.json() == {"detail": "Verify your email address first"}
    assert not await TOTPDevice.objects.aexists()


async def test_a_pending_secret_of_an_unverified_account_cannot_be_confirmed(api, clock):
    session = await signup(api, "pending@example.com")
    secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
    await TOTPDevice.objects.acreate(
        user_id=session["user"]["id"], secret_sealed=secret_seal(secret)
    )
    body = {"code": code(secret, clock.step())}
    response = await api.post(f"{MFA}/totp/confirm", json=body, headers=bearer(session))
    assert response.status_code == 403
    assert response.json() == {"detail": "Verify your email address first"}
    assert (await TOTPDevice.objects.aget()).confirmed_at is None
    assert not await RecoveryCode.objects.aexists()
