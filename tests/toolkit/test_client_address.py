"""Client addresses for throttles: IPv6 by network, IPv4-mapped as IPv4, and a client address
header that holds `host:port` forms or garbage (never silently the proxy's address), read only
from the peers in TRUSTED_PROXIES (anyone else's is ignored: throttles, sessions, access log)."""

import ipaddress
import json
import logging
import time

import httpx
import pytest

from accounts.models import AuthSession, User
from accounts.throttles import throttle_identity
from server.access import answered_requests_record_now
from tests.factories import DEFAULT_PASSWORD
from tests.support.markers import POSTGRESQL
from toolkit.rates import Rate

pytestmark = [*POSTGRESQL, pytest.mark.attack]


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


async def recorded_address(
    address: str, email: str, headers: dict[str, str] | None = None
) -> str | None:
    """Sign up from `address` and answer the client address the new session recorded."""
    response = await signup_from(address, email, headers)
    assert response.status_code == 201, response.text
    session = await AuthSession.objects.aget(user__email=email)
    return session.client_ip


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
    assert await recorded_address("2001:db8:1:2::abcd", "full@example.com") == "2001:db8:1:2::abcd"


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
    assert (
        await recorded_address("10.0.0.1", email, {"X-Forwarded-For": f"198.51.100.1, {entry}"})
        == recorded
    )


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
    assert await recorded_address("192.0.2.44", "direct@example.com") == "192.0.2.44"


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


# --- CLIENT_IP_HEADER counts only from TRUSTED_PROXIES -------------------------------------------

UNTRUSTED_PEER = "203.0.113.9"  # a client on the Internet reaching the server directly
TRUSTED_PEER = "10.0.0.1"  # a load balancer in the default TRUSTED_PROXIES


class AccessLines(logging.Handler):
    """The records project.access writes while it is attached."""

    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def client_ips(self) -> list[str]:
        answered_requests_record_now()  # the recorder's thread records a moment after the answer
        return [record.client_ip for record in self.records]  # type: ignore[attr-defined]


@pytest.fixture
def access_lines():
    handler = AccessLines()
    logger = logging.getLogger("project.access")
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)


async def test_a_spoofed_header_from_an_untrusted_peer_does_not_escape_the_throttle(
    one_signup_an_hour,
):
    one_signup_an_hour.CLIENT_IP_HEADER = "X-Forwarded-For"
    first = await signup_from(
        UNTRUSTED_PEER, "spoof1@example.com", {"X-Forwarded-For": "198.51.100.1"}
    )
    second = await signup_from(
        UNTRUSTED_PEER, "spoof2@example.com", {"X-Forwarded-For": "198.51.100.2"}
    )
    assert (first.status_code, second.status_code) == (201, 429)


async def test_a_spoofed_header_from_an_untrusted_peer_is_not_the_sessions_address(settings):
    settings.CLIENT_IP_HEADER = "X-Forwarded-For"
    assert (
        await recorded_address(
            UNTRUSTED_PEER, "spoofed@example.com", {"X-Forwarded-For": "198.51.100.1"}
        )
        == UNTRUSTED_PEER
    )


@pytest.mark.parametrize("entry", GARBAGE)
async def test_garbage_in_the_header_from_an_untrusted_peer_is_ignored_not_refused(settings, entry):
    settings.CLIENT_IP_HEADER = "X-Forwarded-For"
    email = f"ignored{abs(hash(entry))}@example.com"
    assert (
        await recorded_address(UNTRUSTED_PEER, email, {"X-Forwarded-For": entry}) == UNTRUSTED_PEER
    )


async def test_the_admin_login_throttle_counts_an_untrusted_peer_whatever_its_header(settings):
    from project.asgi import application

    settings.RATE_LIMITS = True
    settings.RATE_LIMIT_ADMIN_LOGIN = Rate(count=1, period=900)
    settings.CLIENT_IP_HEADER = "X-Forwarded-For"
    statuses = []
    transport = httpx.ASGITransport(app=application, client=(UNTRUSTED_PEER, 4000))
    async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as client:
        for forwarded in ("198.51.100.1", "not-an-address"):
            response = await client.post(
                "/admin/login/",
                data={"username": "a@example.com", "password": "x"},
                headers={"X-Forwarded-For": forwarded},
            )
            statuses.append(response.status_code)
    assert statuses[0] not in (400, 429)
    assert statuses[1] == 429  # the same client: neither a new address nor a refused header


async def test_the_header_from_a_trusted_peer_is_the_sessions_address(settings):
    settings.CLIENT_IP_HEADER = "X-Forwarded-For"
    assert (
        await recorded_address(
            TRUSTED_PEER, "proxied@example.com", {"X-Forwarded-For": "198.51.100.1"}
        )
        == "198.51.100.1"
    )


@pytest.mark.parametrize(
    ("peer", "recorded"),
    [
        ("192.0.2.10", "198.51.100.1"),  # in TRUSTED_PROXIES
        ("::ffff:192.0.2.10", "198.51.100.1"),  # the same, seen by a dual-stack socket
        ("10.0.0.1", "10.0.0.1"),  # private, but not one of the configured proxies
        ("127.0.0.1", "127.0.0.1"),
    ],
)
async def test_trusted_proxies_are_the_configured_networks_only(settings, peer, recorded):
    settings.CLIENT_IP_HEADER = "X-Forwarded-For"
    settings.TRUSTED_PROXIES = (ipaddress.ip_network("192.0.2.0/24"),)
    email = f"net{abs(hash(peer))}@example.com"
    assert await recorded_address(peer, email, {"X-Forwarded-For": "198.51.100.1"}) == recorded


async def test_the_access_log_ignores_a_spoofed_header_from_an_untrusted_peer(
    settings, access_lines
):
    settings.CLIENT_IP_HEADER = "X-Forwarded-For"
    await signup_from(UNTRUSTED_PEER, "logged1@example.com", {"X-Forwarded-For": "198.51.100.1"})
    await signup_from(TRUSTED_PEER, "logged2@example.com", {"X-Forwarded-For": "198.51.100.2"})
    assert access_lines.client_ips() == [UNTRUSTED_PEER, "198.51.100.2"]


def access_entry(server, request_id: str) -> dict:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        for line in server.output().splitlines():
            if f'"request_id":"{request_id}"' in line and '"project.access"' in line:
                return json.loads(line)
        time.sleep(0.05)
    raise AssertionError(server.output())


@pytest.mark.parametrize(
    ("trusted_proxies", "client_ip"),
    [("10.0.0.0/8", "127.0.0.1"), ("", "198.51.100.7")],  # "": the default, with loopback
)
def test_a_live_server_reads_the_header_only_from_trusted_proxies(
    serve_factory, trusted_proxies, client_ip
):
    server = serve_factory(
        LOG_FORMAT="json", CLIENT_IP_HEADER="X-Forwarded-For", TRUSTED_PROXIES=trusted_proxies
    )
    response = httpx.get(
        f"{server.url}/health",
        headers={"X-Forwarded-For": "198.51.100.7", "X-Request-ID": "live-spoof"},
    )
    assert response.status_code == 200
    assert access_entry(server, "live-spoof")["client_ip"] == client_ip


def test_uvicorns_own_proxy_headers_do_not_replace_the_peer(live_server_factory):
    """Plain uvicorn trusts X-Forwarded-For from FORWARDED_ALLOW_IPS by default; the protocol
    takes that out, so CLIENT_IP_HEADER (here unset) is the only way a header counts."""
    server = live_server_factory(
        "--http",
        "server.protocol:BoundedHttpToolsProtocol",
        "--proxy-headers",
        "--forwarded-allow-ips",
        "*",
        LOG_FORMAT="json",
    )
    response = httpx.get(
        f"{server.url}/health",
        headers={"X-Forwarded-For": "198.51.100.7", "X-Request-ID": "uvicorn-spoof"},
    )
    assert response.status_code == 200
    assert access_entry(server, "uvicorn-spoof")["client_ip"] == "127.0.0.1"
