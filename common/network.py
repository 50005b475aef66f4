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


def split_host_port(endpoint: str) -> tuple[str, str]:
    """'1.2.3.4:6881' -> ('1.2.3.4', '6881'); '[::1]:6881' -> ('::1', '6881'); ':6881' ->
    ('', '6881'). The port comes back as text, unchecked: callers differ in what they accept."""
    host, _, port = endpoint.rpartition(":")
    return host.strip("[]"), port
