"""Which network a call came from, as the server sees it.

Accounts are cheap, machines and networks less so: replicas that make a quorum come from
distinct networks, and work submitted from a node's network earns it no trust. A network is
the prefix of the address the server saw the call come from (`context.peer()`): the /24 of
an IPv4 address, the /48 of an IPv6 one (what one home or one site usually holds), both
configurable. An IPv4 address seen through an IPv6 socket (::ffff:a.b.c.d) counts as IPv4.
A peer that is no IP address (a unix socket) has the network "local": every such caller is
on the server's own machine.
"""

from __future__ import annotations

import functools

from common.network import client_address, network_of_address

LOCAL = "local"


@functools.lru_cache(maxsize=4096)  # every call of a node asks again for its connection's
def network_of(peer: str, v4_prefix: int = 24, v6_prefix: int = 48) -> str:
    """'ipv4:203.0.113.7:5555' -> '203.0.113.0/24'; 'ipv6:[2001:db8:1:2::5]:5555' ->
    '2001:db8:1::/48'; 'unix:/run/x.sock' -> 'local'. The network as common/network.py
    reads it, which the sign-up limit counts too."""
    return network_of_address(client_address(peer), v4_prefix, v6_prefix) or LOCAL
