"""Client addresses for throttles: IPv6 by network, IPv4-mapped as IPv4, and a client address
header that holds `host:port` forms or garbage (never silently the proxy's address)."""

import httpx
import pytest

from accounts.models import AuthSession, User
from accounts.throttles import throttle_identity
from tests.factories import DEFAULT_PASSWORD
from toolkit.rates import Rate

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def one_signup_an_hour(settings):
    settings.RATE_LIMITS = True
    settings.RATE_LIMIT_SIGNUP = Rate(count=1, period=3600)
    return settings


async def signup_from(address: str, email: str, headers: dict[str, str] | None = None):
    from project.asgi import application

    transport = httpx.ASGITransport(app=application, client=(address, 4000))
    async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as client:
        return await client.post(
            "/api/auth/signup",
            json={"email": email, "password": DEFAULT_PASSWORD},
            headers=headers or {},
        )


@pytest.mark.parametrize(
    ("address", "identity"),
    [
        ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"),
        ("2001:db8:1:2::1", "2001:db8:1:2::/64"),
        ("::ffff:203.0.113.5", "203.0.113.5"),
        ("203.0.113.5", "203.0.113.5"),
    ],
)
def test_throttle_identity_is_the_ipv4_address_or_the_ipv6_64(settings, address, identity):
    settings.THROTTLE_IPV6_PREFIX = 64
    assert throttle_identity(address) == identity


async def test_ipv6_addresses_in_one_64_share_a_throttle_bucket(one_signup_an_hour):
    assert (await signup_from("2001:db8:1:2::1", "v6a@example.com")).status_code == 201
    response = await signup_from("2001:db8:1:2:ffff:eeee:dddd:9", "v6b@example.com")
    assert response.status_code == 429


async def test_ipv6_addresses_in_other_64s_have_their_own_buckets(one_signup_an_hour):
    assert (await signup_from("2001:db8:1:2::1", "v6c@example.com")).status_code == 201
    assert (await signup_from("2001:db8:1:3::1", "v6d@example.com")).status_code == 201


async def test_ipv6_prefix_is_configurable(one_signup_an_hour):
    one_signup_an_hour.THROTTLE_IPV6_PREFIX = 128
    assert (await signup_from("2001:db8:1:2::1", "v6e@example.com")).status_code == 201
    assert (await signup_from("2001:db8:1:2::2", "v6f@example.com")).status_code == 201


async def test_ipv4_mapped_ipv6_shares_the_ipv4_addresss_bucket(one_signup_an_hour):
    assert (await signup_from("203.0.113.5", "v4a@example.com")).status_code == 201
    assert (await signup_from("::ffff:203.0.113.5", "v4b@example.com")).status_code == 429


async def test_sessions_record_the_full_ipv6_address_not_its_network():
    response = await signup_from("2001:db8:1:2::abcd", "full@example.com")
    assert response.status_code == 201
    session = await AuthSession.objects.aget(user__email="full@example.com")
    assert session.client_ip == "2001:db8:1:2::abcd"


@pytest.mark.parametrize(
    ("entry", "recorded"),
    [
        ("203.0.113.7:5678", "203.0.113.7"),
        ("[2001:db8::7]:443", "2001:db8::7"),
        ("[2001:db8::7]", "2001:db8::7"),
        ("2001:db8::7", "2001:db8::7"),
    ],
)
async def test_client_ip_header_accepts_host_port_forms(settings, entry, recorded):
    settings.CLIENT_IP_HEADER = "X-Forwarded-For"
    email = f"port{abs(hash(entry))}@example.com"
    response = await signup_from(
        "10.0.0.1", email, headers={"X-Forwarded-For": f"198.51.100.1, {entry}"}
    )
    assert response.status_code == 201, response.text
    session = await AuthSession.objects.aget(user__email=email)
    assert session.client_ip == recorded


async def test_clients_behind_the_proxy_sending_ports_keep_their_own_buckets(one_signup_an_hour):
    one_signup_an_hour.CLIENT_IP_HEADER = "X-Forwarded-For"
    first = await signup_from("10.0.0.1", "p1@example.com", {"X-Forwarded-For": "203.0.113.8:1"})
    second = await signup_from("10.0.0.1", "p2@example.com", {"X-Forwarded-For": "203.0.113.9:2"})
    assert (first.status_code, second.status_code) == (201, 201)


GARBAGE = ["garbage", "203.0.113.7:port", "999.0.0.1", "203.0.113.7,", "[2001:db8::7", "unknown"]


@pytest.mark.parametrize("entry", GARBAGE)
async def test_client_ip_header_with_garbage_is_a_json_400(settings, entry):
    settings.CLIENT_IP_HEADER = "X-Forwarded-For"
    response = await signup_from("10.0.0.1", "junk@example.com", {"X-Forwarded-For": entry})
    assert response.status_code == 400
    assert response.json() == {
        "detail": "The X-Forwarded-For header does not end with a client address"
    }
    assert not await User.objects.filter(email="junk@example.com").aexists()


async def test_admin_login_with_garbage_client_ip_header_is_a_json_400(api, settings):
    settings.RATE_LIMITS = True
    settings.CLIENT_IP_HEADER = "X-Forwarded-For"
    response = await api.post(
        "/admin/login/",
        data={"username": "a@example.com", "password": "x"},
        headers={"X-Forwarded-For": "not-an-address"},
    )
    assert response.status_code == 400
    assert response.json() == {
        "detail": "The X-Forwarded-For header does not end with a client address"
    }


async def test_requests_without_the_client_ip_header_use_the_peer_address(settings):
    settings.CLIENT_IP_HEADER = "X-Forwarded-For"
    response = await signup_from("192.0.2.44", "direct@example.com")
    assert response.status_code == 201
    session = await AuthSession.objects.aget(user__email="direct@example.com")
    assert session.client_ip == "192.0.2.44"


async def test_per_email_and_ip_failure_budget_is_shared_by_an_ipv6_64(settings, users):
    settings.RATE_LIMITS = True
    settings.RATE_LIMIT_SIGNIN_FAILED = Rate(count=2, period=900)
    settings.RATE_LIMIT_SIGNIN_FAILED_EMAIL = Rate(count=100, period=900)
    await users.create(email="guessed@example.com")
    statuses = []
    for host in range(1, 4):  # a new address of one /64 for every guess
        from project.asgi import application

        transport = httpx.ASGITransport(app=application, client=(f"2001:db8:9:9::{host}", 4000))
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as client:
            response = await client.post(
                "/api/auth/signin", json={"email": "guessed@example.com", "password": "wrong-1"}
            )
        statuses.append(response.status_code)
    assert statuses == [401, 401, 429]
