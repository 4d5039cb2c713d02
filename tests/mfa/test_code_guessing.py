"""Second-factor guessing hands out no lockouts: wrong codes spend a small budget per (user,
client address) and a larger one per user from everywhere, so whoever knows the password
cannot spend the owner's budget from their own address."""

import pytest

from tests.accounts.helpers import verified_signup
from tests.accounts.test_password_guessing import client_from
from tests.factories import DEFAULT_PASSWORD
from tests.mfa.helpers import MFA, clock, code, totp_on
from tests.support.markers import POSTGRESQL
from toolkit.rates import Rate

pytestmark = [*POSTGRESQL, pytest.mark.attack]
__all__ = ["clock"]  # the fixture
VERIFY = f"{MFA}/verify"
WRONG = "000000"


@pytest.fixture
def code_budgets(settings):
    settings.RATE_LIMITS = True
    settings.RATE_LIMIT_SIGNIN = Rate(count=1000, period=900)
    settings.RATE_LIMIT_MFA_FAILED = Rate(count=3, period=900)
    settings.RATE_LIMIT_MFA_FAILED_USER = Rate(count=50, period=3600)
    return settings


async def mfa_token(client, email: str) -> str:
    response = await client.post(
        "/api/auth/signin", json={"email": email, "password": DEFAULT_PASSWORD}
    )
    assert response.status_code == 200, response.text
    return str(response.json()["mfa_token"])


async def wrong_codes(client, email: str, count: int) -> list[int]:
    token = await mfa_token(client, email)
    return [
        (await client.post(VERIFY, json={"mfa_token": token, "code": WRONG})).status_code
        for _ in range(count)
    ]


async def test_an_attacker_spending_the_code_budget_does_not_lock_the_owner_out(
    code_budgets, clock
):
    async with client_from("198.51.100.7") as owner, client_from("203.0.113.9") as attacker:
        session = await verified_signup(owner, "owner@example.com")
        secret, _ = await totp_on(owner, session, clock)
        assert await wrong_codes(attacker, "owner@example.com", 4) == [401, 401, 401, 429]
        # The attacker's address is out of budget, even for the right code...
        token = await mfa_token(attacker, "owner@example.com")
        right = {"mfa_token": token, "code": code(secret, clock.step())}
        assert (await attacker.post(VERIFY, json=right)).status_code == 429
        # ...and the owner, from elsewhere, signs in.
        token = await mfa_token(owner, "owner@example.com")
        response = await owner.post(
            VERIFY, json={"mfa_token": token, "code": code(secret, clock.step())}
        )
        assert response.status_code == 200, response.text


async def test_a_guesser_spreading_over_addresses_meets_the_users_budget(code_budgets, clock):
    code_budgets.RATE_LIMIT_MFA_FAILED_USER = Rate(count=5, period=3600)
    async with (
        client_from("198.51.100.7") as owner,
        client_from("203.0.113.1") as first,
        client_from("203.0.113.2") as second,
    ):
        session = await verified_signup(owner, "spread@example.com")
        secret, _ = await totp_on(owner, session, clock)
        assert await wrong_codes(first, "spread@example.com", 4) == [401, 401, 401, 429]
        assert await wrong_codes(second, "spread@example.com", 3) == [401, 401, 429]
        token = await mfa_token(owner, "spread@example.com")
        response = await owner.post(
            VERIFY, json={"mfa_token": token, "code": code(secret, clock.step())}
        )
        assert response.status_code == 429
