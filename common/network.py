"""Addresses as both sides read them, and the networks they belong to. Plaintext gRPC is
allowed only where no other machine can listen in, so the server (which refuses to listen in
plaintext elsewhere) and the app (which refuses to dial in plaintext elsewhere) must agree on
what loopback is.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import unquote

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


def client_address(peer: str) -> str:
    """The host part of a gRPC peer string: 'ipv4:1.2.3.4:5678' -> '1.2.3.4',
    'ipv6:%5B::1%5D:5678' -> '::1'; '' for a peer that is no IP address (a unix socket). gRPC
    writes the peer as a URI, so an IPv6 address comes percent-encoded ('[' is %5B): decoded
    here, or every IPv6 client would seem to have no address at all."""
    scheme, _, rest = unquote(peer or "").partition(":")
    if scheme in ("ipv4", "ipv6"):
        return rest.rpartition(":")[0].strip("[]")
    return ""


def network_of_address(address: str, ipv4_prefix: int = 24, ipv6_prefix: int = 48) -> str:
    """The network an address belongs to: '203.0.113.7' -> '203.0.113.0/24',
    '2001:db8:1:2::5' -> '2001:db8:1::/48' (the /24 and /48 by default: what one home or one
    site usually holds). An IPv4 address mapped into IPv6 (::ffff:203.0.113.7) counts as the
    IPv4 address; '' for anything that is not an IP address. The one notion of a network
    that the server's sign-up limit and its quorums share (server/nodes/networks.py)."""
    try:
        ip = ipaddress.ip_address(address.strip().strip("[]").split("%", 1)[0])
    except ValueError:
        return ""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.version == 4:
        prefix = min(max(int(ipv4_prefix), 0), 32)
    else:
        prefix = min(max(int(ipv6_prefix), 0), 128)
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False))


def split_host_port(endpoint: str) -> tuple[str, str]:
    """'1.2.3.4:6881' -> ('1.2.3.4', '6881'); '[::1]:6881' -> ('::1', '6881'); ':6881' ->
    ('', '6881'). The port comes back as text, unchecked: callers differ in what they accept."""
    host, _, port = endpoint.rpartition(":")
    return host.strip("[]"), port
