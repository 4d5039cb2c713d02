"""The new-device notice: a sign-in from a device and network that none of the user's recent
sessions had is told to the address, through the task queue, with a `new_device_notice` event."""

import ipaddress
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, Min

from accounts import tasks
from accounts.client import ClientInfo
from accounts.devices import device_label
from accounts.models import AuthSession, User
from accounts.signals import EventType
from toolkit.tasks import enqueue_with_transaction

# Protocol (API.md): how far back sessions count as known, and what counts as one network.
RECENT = timedelta(days=90)
IPV4_PREFIX = 24
IPV6_PREFIX = 64
# Distinct (user agent, address) pairs looked at: a bound on one sign-in's work, however many
# sessions an account gathered (beyond it, a known device may be taken for a new one).
MOST_PAIRS = 1000


@dataclass(frozen=True)
class NewDevice:
    device: str
    network: str


def network_of(ip: str | None) -> str:
    """The client's network: its IPv4 /24 or IPv6 /64 (an IPv4-mapped address is IPv4)."""
    try:
        address = ipaddress.ip_address(ip or "")
    except ValueError:
        return "unknown network"
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    prefix = IPV4_PREFIX if address.version == 4 else IPV6_PREFIX
    return str(ipaddress.ip_network((address, prefix), strict=False))


def new_device_seen(*, user: User, client: ClientInfo, now: datetime) -> NewDevice | None:
    """What to tell of a sign-in about to open a session, or None when it is like one of the
    user's sessions of the last RECENT (same device label and same network).

    One query on the user's sessions (the index of their foreign key), grouped by user agent and
    address. Never for the first sign-in after sign-up (the only recent session is the sign-up's
    own) nor for the first sign-in of a young account that never had a session: there is nothing
    to compare it with. An older account with no recent session is told: a return after a long
    absence is what the notice is for."""
    if not settings.NOTIFY_NEW_DEVICE:
        return None
    device, network = device_label(client.user_agent), network_of(client.ip)
    pairs = list(
        AuthSession.objects.filter(user_id=user.pk, created_at__gte=now - RECENT)
        .values_list("user_agent", "client_ip")
        .annotate(first=Min("created_at"), sessions=Count("id"))
        .order_by()[:MOST_PAIRS]
    )
    if not pairs:
        return None if user.created_at >= now - RECENT else NewDevice(device, network)
    for user_agent, ip, _, _ in pairs:
        if device_label(user_agent) == device and network_of(ip) == network:
            return None
    _, _, first, sessions = pairs[0]
    if len(pairs) == 1 and sessions == 1 and first == user.created_at:
        return None  # the sign-up's session alone: the first sign-in after sign-up
    return NewDevice(device, network)


def new_device_notice(
    *, user: User, client: ClientInfo, session_id: uuid.UUID, seen: NewDevice, now: datetime
) -> None:
    """Enqueue the notice with the sign-in's transaction, and record that it was sent."""
    enqueue_with_transaction(
        tasks.new_device_notice_send,
        user_id=str(user.pk),
        to=user.email,
        device=seen.device,
        network=seen.network,
        at=now.isoformat(),
    )
    client.event(
        EventType.NEW_DEVICE_NOTICE,
        user_id=user.pk,
        session_id=session_id,
        detail={"device": seen.device, "network": seen.network},
    )
