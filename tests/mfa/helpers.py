"""Helpers for the second-factor tests: a settable TOTP clock, and TOTP turned on via the API."""

from dataclasses import dataclass

import pyotp
import pytest

from mfa import totp
from tests.accounts.helpers import bearer

MFA = "/api/auth/mfa"
# Mid-step, far from either edge: 15 s into step START_STEP.
START_STEP = 59_000_000
START = START_STEP * 30 + 15.0


@dataclass
class Clock:
    """What mfa.totp.clock answers; tests move it by whole steps or seconds."""

    now: float = START

    def step(self) -> int:
        return int(self.now // 30)


@pytest.fixture
def clock(monkeypatch) -> Clock:
    fixed = Clock()
    monkeypatch.setattr(totp, "clock", lambda: fixed.now)
    return fixed


def code(secret: str, step: int) -> str:
    return pyotp.TOTP(secret).at(step * 30)


async def totp_on(api, session: dict, clock: Clock) -> tuple[str, list[str]]:
    """Set up and confirm TOTP; the secret and the recovery codes. Moves the clock one step on,
    so the confirming code is not the next one the test uses."""
    setup = await api.post(f"{MFA}/totp/setup", headers=bearer(session))
    assert setup.status_code == 200, setup.text
    secret = setup.json()["secret"]
    confirm = await api.post(
        f"{MFA}/totp/confirm", json={"code": code(secret, clock.step())}, headers=bearer(session)
    )
    assert confirm.status_code == 200, confirm.text
    clock.now += 30
    return secret, confirm.json()["recovery_codes"]
