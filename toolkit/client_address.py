"""The client's address: the TCP peer's, or the one a trusted proxy forwarded in CLIENT_IP_HEADER.

The one home of the rule, used by the throttles, the sessions' records and the access log alike:
the header is read only when the TCP peer is in TRUSTED_PROXIES (a proxy of ours, which replaces
or appends to what the client sent); from anyone else it is the client's own word and ignored,
garbage included. From a trusted peer, the header's rightmost entry is the address the proxy saw
(`1.2.3.4`, `1.2.3.4:5678`, `2001:db8::1`, `[2001:db8::1]` or `[2001:db8::1]:443`).
"""

import ipaddress
from collections.abc import Iterable
from functools import cache, lru_cache

from django.core.signals import setting_changed
from django.dispatch import receiver

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

# Loopback and the private ranges: where the proxies in front of a pod or a container live.
DEFAULT_TRUSTED_PROXIES = "127.0.0.0/8,::1/128,10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,fc00::/7"


class ForwardedAddressInvalid(ValueError):
    """A trusted proxy's CLIENT_IP_HEADER does not end with an address."""


def address_without_port(entry: str) -> str | None:
    """`1.2.3.4`, `1.2.3.4:5678`, `2001:db8::1`, `[2001:db8::1]` or `[2001:db8::1]:443` as the
    address alone; None for anything else."""
    host = entry
    if entry.startswith("["):
        host, bracket, port = entry[1:].partition("]")
        if not bracket or (port and not (port.startswith(":") and port[1:].isdigit())):
            return None
    elif entry.count(":") == 1:
        host, _, port = entry.partition(":")
        if not port.isdigit():
            return None
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        return None


class ClientAddressRule:
    """CLIENT_IP_HEADER (as configured, e.g. `X-Forwarded-For`; empty when unset) and the
    networks whose peers may set it."""

    def __init__(self, header: str, trusted_proxies: Iterable[Network]) -> None:
        self.header = header
        self.trusted_proxies = tuple(trusted_proxies)
        # The header as Django's META and as ASGI name it.
        self.meta_key = "HTTP_" + header.upper().replace("-", "_") if header else ""
        self.asgi_name = header.lower().encode("latin-1") if header else b""
        # A deployment has a handful of proxies: their verdict is kept, so a request through
        # one costs a dictionary lookup, not an address parse and a walk over the networks.
        self.peer_trusted = lru_cache(maxsize=1024)(self.peer_in_trusted_networks)

    def peer_in_trusted_networks(self, peer: str) -> bool:
        try:
            address = ipaddress.ip_address(peer)
        except ValueError:
            return False  # no address (a Unix socket): nothing to trust
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped  # a dual-stack socket's view of an IPv4 peer
        return any(address in network for network in self.trusted_proxies)

    def forwarded_address(self, peer: str | None, forwarded: str | None) -> str | None:
        """The address in the header, when it counts: CLIENT_IP_HEADER is set, the request has
        it (not blank) and the peer is a trusted proxy; else None. Raises
        ForwardedAddressInvalid when it counts but its rightmost entry is no address: falling
        back to the peer would put every such client in the proxy's throttle bucket."""
        if not forwarded or peer is None or not self.header or not self.peer_trusted(peer):
            return None
        if not forwarded.strip():
            return None  # the proxy did not set it: a probe, or another path in
        address = address_without_port(forwarded.rpartition(",")[2].strip())
        if address is None:
            raise ForwardedAddressInvalid(
                f"The {self.header} header does not end with a client address"
            )
        return address

    def client_address(self, peer: str | None, forwarded: str | None) -> str | None:
        """The client's address (as `forwarded_address`, else the peer's); None when the peer
        has no IP address and no trusted header names one."""
        address = self.forwarded_address(peer, forwarded)
        if address is not None:
            return address
        try:
            return str(ipaddress.ip_address(peer or ""))
        except ValueError:
            return None


@cache
def configured_rule() -> ClientAddressRule:
    """The rule as the settings say (CLIENT_IP_HEADER, TRUSTED_PROXIES), made once."""
    from django.conf import settings

    return ClientAddressRule(settings.CLIENT_IP_HEADER, settings.TRUSTED_PROXIES)


@receiver(setting_changed)
def configured_rule_forget(*, setting: str, **kwargs: object) -> None:
    if setting in ("CLIENT_IP_HEADER", "TRUSTED_PROXIES"):
        configured_rule.cache_clear()
