"""Breached passwords (PWNED_PASSWORDS): a validator asking a k-anonymity range API, here a local
one (tests/support/rangeserver.py), for sign-up, password change and reset; 422
`password_breached` when found; accepted, logged and counted when the API is down or slow; and
never waited for on the event loop."""

import asyncio
import logging
import time

import pytest

from accounts.breached import BreachedPasswordValidator
from tests.accounts.helpers import change_password, confirm_reset, signup
from tests.support.rangeserver import RangeServer, sha1_hex
from toolkit import metrics

pytestmark = pytest.mark.django_db(transaction=True)
BREACHED = "a passphrase everyone leaked"  # passes every other validator
CLEAN = "a passphrase nobody has seen"
VALIDATOR = {"NAME": "accounts.breached.BreachedPasswordValidator"}


@pytest.fixture
def range_api(settings):
    server = RangeServer(breached={BREACHED: 4242}).start()
    settings.PWNED_PASSWORDS = True
    settings.PWNED_PASSWORDS_URL = server.url
    settings.PWNED_PASSWORDS_TIMEOUT = 0.5
    settings.AUTH_PASSWORD_VALIDATORS = [*settings.AUTH_PASSWORD_VALIDATORS, VALIDATOR]
    yield server
    server.stop()


@pytest.fixture
def warnings():
    lines: list[str] = []

    class Recorder(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(f"{record.levelname} {record.getMessage()}")

    logger = logging.getLogger("accounts.breached")
    recorder = Recorder()
    logger.addHandler(recorder)
    yield lines
    logger.removeHandler(recorder)


def unavailable() -> float:
    return (
        metrics.REGISTRY.get_sample_value(
            "accounts_breached_password_checks_total", {"result": "unavailable"}
        )
        or 0.0
    )


async def signup_with(api, email: str, password: str):
    return await api.post("/api/auth/signup", json={"email": email, "password": password})


def test_off_by_default(settings):
    assert VALIDATOR not in settings.AUTH_PASSWORD_VALIDATORS
    assert settings.PWNED_PASSWORDS is False


async def test_a_breached_password_is_422_password_breached(api, range_api):
    response = await signup_with(api, "leaky@example.com", BREACHED)
    assert response.status_code == 422
    [problem] = response.json()["detail"]
    assert problem["type"] == "password_breached"
    assert problem["loc"] == ["body", "password"]
    assert "breach" in problem["msg"]


async def test_only_the_first_five_hex_digits_leave_and_padding_is_asked_for(api, range_api):
    await signup_with(api, "private@example.com", BREACHED)
    [(path, headers)] = range_api.requests
    assert path == f"/range/{sha1_hex(BREACHED)[:5]}"
    assert headers["add-padding"] == "true"
    assert sha1_hex(BREACHED)[5:] not in path and BREACHED not in str(headers)


async def test_a_password_not_in_the_range_is_accepted(api, range_api):
    assert (await signup_with(api, "clean@example.com", CLEAN)).status_code == 201


async def test_padding_lines_of_count_zero_are_not_breaches(api, range_api):
    range_api.breached = {CLEAN: 0}  # the password's own suffix, as a padding line
    assert (await signup_with(api, "padded@example.com", CLEAN)).status_code == 201
    assert range_api.requests and range_api.padding > 0


async def test_the_api_down_accepts_logs_and_counts(api, range_api, warnings):
    range_api.stop()
    before = unavailable()
    assert (await signup_with(api, "down@example.com", BREACHED)).status_code == 201
    assert unavailable() == before + 1
    assert any(line.startswith("WARNING Breached-password check unavailable") for line in warnings)


async def test_an_error_answer_accepts(api, range_api, warnings):
    range_api.status = 503
    assert (await signup_with(api, "error@example.com", BREACHED)).status_code == 201
    assert warnings


async def test_a_slow_api_is_given_up_on_after_the_timeout(api, range_api, warnings):
    range_api.delay = 5
    before = unavailable()
    started = time.monotonic()
    response = await signup_with(api, "slow@example.com", BREACHED)
    assert response.status_code == 201
    assert time.monotonic() - started < 3 * 0.5 + 1  # the timeout, plus the hashing
    assert unavailable() == before + 1
    assert any("timeout" in line for line in warnings)


async def test_the_check_never_blocks_the_event_loop(api, range_api, settings):
    settings.PWNED_PASSWORDS_TIMEOUT = 3
    range_api.delay = 1.5

    async def health_while_checking() -> float:
        await asyncio.sleep(0.3)  # the sign-up is waiting on the range API by now
        started = time.monotonic()
        assert (await api.get("/health")).status_code == 200
        return time.monotonic() - started

    signup_answer, health_took = await asyncio.gather(
        signup_with(api, "waiting@example.com", BREACHED), health_while_checking()
    )
    assert signup_answer.status_code == 422
    assert health_took < 0.5


async def test_password_change_refuses_a_breached_password(api, range_api):
    session = await signup(api, "changer@example.com", CLEAN)
    response = await change_password(api, session, BREACHED, current=CLEAN)
    assert response.status_code == 422
    assert response.json()["detail"][0] == {
        "type": "password_breached",
        "loc": ["body", "new_password"],
        "msg": response.json()["detail"][0]["msg"],
    }


async def test_reset_refuses_a_breached_password(api, range_api):
    await signup(api, "resetter@example.com", CLEAN)
    await api.post("/api/auth/password/reset", json={"email": "resetter@example.com"})
    response = await confirm_reset(api, "resetter@example.com", BREACHED)
    assert response.status_code == 422
    assert response.json()["detail"][0]["type"] == "password_breached"


async def test_a_weak_password_is_not_looked_up(api, range_api):
    response = await signup_with(api, "weak@example.com", "password")
    assert [p["type"] for p in response.json()["detail"]] == ["password_too_common"]
    assert range_api.requests == []


async def test_a_body_refused_by_its_schema_is_not_looked_up_on_the_loop(api, range_api):
    response = await signup_with(api, "not an address", BREACHED)
    assert response.status_code == 422
    assert [p["loc"] for p in response.json()["detail"]] == [["body", "email"]]
    assert range_api.requests == []


def test_the_validator_gives_django_a_coded_error(range_api):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as refused:
        BreachedPasswordValidator().validate(BREACHED)
    assert refused.value.error_list[0].code == "password_breached"
    BreachedPasswordValidator().validate(CLEAN)
