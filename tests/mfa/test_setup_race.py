"""TOTP setup racing confirm on a live server: once a device is confirmed, setup answers 409 and
the secret stays the one the authenticator app holds."""

import asyncio
import time
from collections import Counter
from collections.abc import Iterator

import httpx
import pyotp
import pytest
from django.db import connection

from accounts.models import User
from mfa import totp
from mfa.models import TOTPDevice
from mfa.sealing import secret_open
from tests.factories import DEFAULT_PASSWORD
from tests.support.markers import POSTGRESQL

pytestmark = [*POSTGRESQL, pytest.mark.slow]
MFA = "/api/auth/mfa"
# Seconds into confirm's transaction at which setup arrives: at once, and while confirm holds
# the device's row lock (the trigger below makes that last a while).
SETUP_DELAYS = (0.0, 0.05, 0.1, 0.2)
ROUNDS = 12


@pytest.fixture
def slow_confirm() -> Iterator[None]:
    """Each update of a device that records an accepted code (confirm's) sleeps 0.2 s inside
    its transaction, the device locked: the window in which a setup that checked "already on"
    before confirm committed writes after it, made wide enough to hit every time."""
    table = TOTPDevice._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE FUNCTION test_slow_totp_confirm() RETURNS trigger AS $$ BEGIN "
            "IF NEW.last_used_step IS NOT NULL THEN PERFORM pg_sleep(0.2); END IF; "
            "RETURN NEW; END $$ LANGUAGE plpgsql"
        )
        cursor.execute(
            f"CREATE TRIGGER test_slow_totp_confirm BEFORE UPDATE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION test_slow_totp_confirm()"
        )
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TRIGGER IF EXISTS test_slow_totp_confirm ON {table}")
            cursor.execute("DROP FUNCTION IF EXISTS test_slow_totp_confirm()")


async def race(client: httpx.AsyncClient, n: int, delay: float) -> tuple[str, int, int]:
    """A user with a pending secret; confirm (with that secret's code) and a second setup at
    once. The confirmed secret, and the two statuses."""
    signup = await client.post(
        "/api/auth/signup", json={"email": f"race{n}@example.com", "password": DEFAULT_PASSWORD}
    )
    headers = {"Authorization": f"Bearer {signup.json()['access_token']}"}
    # As its verification link would: TOTP is only for a verified address.
    await User.objects.filter(email=f"race{n}@example.com").aupdate(email_verified=True)
    secret = (await client.post(f"{MFA}/totp/setup", headers=headers)).json()["secret"]

    async def setup_later() -> httpx.Response:
        await asyncio.sleep(delay)
        return await client.post(f"{MFA}/totp/setup", headers=headers)

    confirm, setup = await asyncio.gather(
        client.post(
            f"{MFA}/totp/confirm", json={"code": pyotp.TOTP(secret).now()}, headers=headers
        ),
        setup_later(),
    )
    return secret, confirm.status_code, setup.status_code


def test_setup_racing_confirm_never_replaces_the_confirmed_secret(
    live_server_factory, slow_confirm
):
    server = live_server_factory(RATE_LIMITS="off")

    async def rounds() -> list[tuple[str, int, int]]:
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
            return [
                await race(client, n, SETUP_DELAYS[n % len(SETUP_DELAYS)]) for n in range(ROUNDS)
            ]

    results = asyncio.run(rounds())
    print(f"\n(confirm, setup) statuses: {sorted(Counter((c, s) for _, c, s in results).items())}")
    confirmed = 0
    for n, (secret, confirm, setup) in enumerate(results):
        assert confirm in (200, 400) and setup in (200, 409), (n, confirm, setup)
        if confirm != 200:
            continue  # setup came first and replaced the pending secret: nothing was on yet
        confirmed += 1
        device = TOTPDevice.objects.get(user__email=f"race{n}@example.com")
        assert device.confirmed_at is not None
        stored = secret_open(device.secret_sealed)
        later = pyotp.TOTP(secret).at(time.time() + 30)
        assert totp.matching_step(stored, later, at=time.time(), after=None) is not None, (
            f"round {n}: confirm answered 200, setup {setup}, and the confirmed secret was replaced"
        )
        assert setup == 409, (n, confirm, setup)
    assert confirmed >= ROUNDS // 2  # the race was run, not avoided
    assert "Traceback" not in server.output()
