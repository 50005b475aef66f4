"""Addresses as both sides read them. Plaintext gRPC is allowed only where no other machine
can listen in, so the server (which refuses to listen in plaintext elsewhere) and the app
(which refuses to dial in plaintext elsewhere) must agree on what loopback is.
"""

from __future__ import annotations

import ipaddress

LOOPBACK_NAMES = frozenset({"localhost", "ip6-localhost", "ip6-loopback"})


def is_loopback(host: str) -> bool:
    """True for a host only this machine can reach: 127.0.0.0/8, ::1 (bracketed or not),
    localhost."""
    name = host.strip().strip("[]").lower()
    if name in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def network_of(address: str, ipv4_prefix: int = 24, ipv6_prefix: int = 48) -> str:
    """The network an address belongs to, as the limits that count networks see it:
    '203.0.113.7' -> '203.0.113.0/24', '2001:db8:1:2::5' -> '2001:db8:1::/48'. An IPv4 address
    mapped into IPv6 (::ffff:203.0.113.7) counts as the IPv4 address; '' for anything that
    is not an IP address."""
    try:
        ip = ipaddress.ip_address(address.strip().strip("[]").split("%", 1)[0])
    except ValueError:
        return ""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    prefix = ipv4_prefix if ip.version == 4 else ipv6_prefix
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False))


def split_host_port(endpoint: str) -> tuple[str, str]:
    """'1.2.3.4:6881' -> ('1.2.3.4', '6881'); '[::1]:6881' -> ('::1', '6881'); ':6881' ->
    ('', '6881'). The port comes back as text, unchecked: callers differ in what they accept."""
    host, _, port = endpoint.rpartition(":")
    return host.strip("[]"), port
