"""The new-device notice: a sign-in (any method) whose device label and network (IPv4 /24,
IPv6 /64) match none of the user's sessions of the last 90 days is mailed, through the task
queue, with a `new_device_notice` event; never for the first sign-in after sign-up."""

from datetime import timedelta

import httpx
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.client import ClientInfo
from accounts.flows.new_device import network_of, new_device_seen
from accounts.models import AuthSession, User
from audit.models import AuthEvent
from tests.accounts.helpers import signup
from tests.factories import DEFAULT_PASSWORD
from tests.support.mail import html_part, sent_to

pytestmark = pytest.mark.django_db(transaction=True)
SUBJECT = "New sign-in to your account"
FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0"
SAFARI = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/18.0 Mobile/15E148 Safari/604.1"
)


def client(ip: str, user_agent: str) -> httpx.AsyncClient:
    from project.asgi import application

    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=application, client=(ip, 4000)),
        base_url="http://localhost",
        headers={"User-Agent": user_agent},
    )


async def signin_from(ip: str, user_agent: str, email: str) -> None:
    async with client(ip, user_agent) as api:
        body = {"email": email, "password": DEFAULT_PASSWORD}
        response = await api.post("/api/auth/signin", json=body)
        assert response.status_code == 200, response.text


async def signup_from(ip: str, user_agent: str, email: str) -> None:
    async with client(ip, user_agent) as api:
        await signup(api, email)


def notices(email: str) -> list:
    return [message for message in sent_to(email) if message.subject == SUBJECT]


async def known_account(email: str) -> None:
    """Signed up and signed in once from Firefox on 198.51.100.7: past the first sign-in."""
    await signup_from("198.51.100.7", FIREFOX, email)
    await signin_from("198.51.100.7", FIREFOX, email)


async def test_a_new_device_on_a_new_network_is_told_with_a_link_to_the_sessions(api):
    await known_account("told@example.com")
    await signin_from("203.0.113.9", SAFARI, "told@example.com")
    [notice] = notices("told@example.com")
    for part in (notice.body, html_part(notice)):
        assert "Safari on iPhone" in part
        assert "203.0.113.0/24" in part
        assert "http://localhost:3000/account" in part
        assert f"{timezone.now():%Y-%m-%d}" in part
    event = await AuthEvent.objects.aget(type="new_device_notice")
    assert event.detail == {"device": "Safari on iPhone", "network": "203.0.113.0/24"}
    signin = await AuthEvent.objects.filter(type="signin").alatest("at")
    assert event.session_id == signin.session_id


async def test_the_same_device_on_the_same_network_is_not_told():
    await known_account("home@example.com")
    await signin_from("198.51.100.200", FIREFOX, "home@example.com")  # same /24, another host
    assert notices("home@example.com") == []
    assert not await AuthEvent.objects.filter(type="new_device_notice").aexists()


async def test_a_known_device_on_a_new_network_is_told():
    await known_account("travel@example.com")
    await signin_from("198.51.101.7", FIREFOX, "travel@example.com")
    assert len(notices("travel@example.com")) == 1


async def test_a_new_device_on_a_known_network_is_told():
    await known_account("lent@example.com")
    await signin_from("198.51.100.7", SAFARI, "lent@example.com")
    assert len(notices("lent@example.com")) == 1


async def test_ipv6_networks_are_64_bits():
    await signup_from("2001:db8:1:2::10", FIREFOX, "six@example.com")
    await signin_from("2001:db8:1:2::10", FIREFOX, "six@example.com")
    await signin_from("2001:db8:1:2:aaaa::1", FIREFOX, "six@example.com")
    assert notices("six@example.com") == []
    await signin_from("2001:db8:1:3::10", FIREFOX, "six@example.com")
    assert len(notices("six@example.com")) == 1


def test_networks_are_ipv4_24_and_ipv6_64_bits():
    assert network_of("192.0.2.77") == "192.0.2.0/24"
    assert network_of("::ffff:192.0.2.77") == "192.0.2.0/24"
    assert network_of("2001:db8:a:b:c:d:e:f") == "2001:db8:a:b::/64"
    assert network_of(None) == "unknown network"


async def test_never_for_the_first_signin_after_signup():
    await signup_from("198.51.100.7", FIREFOX, "fresh@example.com")
    await signin_from("203.0.113.9", SAFARI, "fresh@example.com")
    assert notices("fresh@example.com") == []
    # From then on the account has a history to compare with.
    await signin_from("192.0.2.1", "curl/8.5.0", "fresh@example.com")
    assert len(notices("fresh@example.com")) == 1


async def test_sessions_older_than_90_days_are_forgotten(users):
    await known_account("old@example.com")
    long_ago = timezone.now() - timedelta(days=91)
    await User.objects.filter(email="old@example.com").aupdate(created_at=long_ago)
    await AuthSession.objects.aupdate(created_at=long_ago)
    await signin_from("198.51.100.7", FIREFOX, "old@example.com")
    assert len(notices("old@example.com")) == 1


async def test_notify_new_device_off_sends_nothing(settings):
    settings.NOTIFY_NEW_DEVICE = False
    await known_account("quiet@example.com")
    await signin_from("203.0.113.9", SAFARI, "quiet@example.com")
    assert notices("quiet@example.com") == []


async def test_an_email_code_signin_is_told_too(api):
    await known_account("coded@example.com")
    async with client("203.0.113.9", SAFARI) as other:
        await other.post("/api/auth/email/code", json={"email": "coded@example.com"})
        [message] = [m for m in sent_to("coded@example.com") if m.subject == "Your sign-in code"]
        code = message.body.split("code:\n\n")[1].split()[0]
        body = {"email": "coded@example.com", "code": code}
        assert (await other.post("/api/auth/email/code/confirm", json=body)).status_code == 200
    assert len(notices("coded@example.com")) == 1


async def test_the_check_is_one_query():
    await known_account("cheap@example.com")
    user = await User.objects.aget(email="cheap@example.com")

    def seen():
        with CaptureQueriesContext(connection) as queries:
            found = new_device_seen(
                user=user, client=ClientInfo("203.0.113.9", SAFARI), now=timezone.now()
            )
        return found, len(queries)

    from asgiref.sync import sync_to_async

    found, count = await sync_to_async(seen)()
    assert found is not None and count == 1
