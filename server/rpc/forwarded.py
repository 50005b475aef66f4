"""The client's address behind a proxy we trust.

Every call's address (`context.peer()`) decides its network (server/nodes/networks.py: who
may make a quorum together), its request budget without a credential (server/rpc/budgets.py),
its sign-up limit and a node's BitTorrent endpoint. Behind HAProxy every call comes from
HAProxy's address, so all of those would be one. HAProxy can name the client in an
`x-forwarded-for` header (packaging/server/haproxy.cfg drops any the client sent and adds its
own); this interceptor, placed first, makes `context.peer()` return that client's address for
calls from an address in `trusted_proxies`, and leaves every other call as it is: a client
cannot name an address of its choice unless it is one of those proxies.
"""

from __future__ import annotations

import inspect
import ipaddress
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any

import grpc

from common.network import client_address
from server.rpc.handlers import Behaviour, rewrap

HEADER = "x-forwarded-for"

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_trusted_proxies(text: str) -> list[Network]:
    """'10.0.0.5, 10.1.0.0/16' -> the networks; ValueError naming a bad entry."""
    networks: list[Network] = []
    for item in (text or "").replace(" ", ",").split(","):
        if not item:
            continue
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ValueError(
                f"trusted_proxies: {item!r} is not an IP address or network (e.g. 10.0.0.5 or"
                " 10.0.0.0/24)"
            ) from None
    return networks


def forwarded_peer(peer: str, metadata: Sequence[tuple[str, Any]], trusted: list[Network]) -> str:
    """`peer`, or, when it is a trusted proxy that named a valid client address, that
    address as a peer string ("ipv4:203.0.113.7:0", "ipv6:[2001:db8::7]:0")."""
    try:
        seen = ipaddress.ip_address(client_address(peer))
    except ValueError:
        return peer
    if seen.version == 6 and seen.ipv4_mapped is not None:
        seen = seen.ipv4_mapped
    if not any(seen in network for network in trusted):
        return peer
    named = ""
    for key, value in metadata or ():
        if key == HEADER:
            named = value if isinstance(value, str) else value.decode(errors="replace")
    # The last entry is the one the proxy itself saw (anything before came from the client).
    last = named.rpartition(",")[2].strip()
    try:
        client = ipaddress.ip_address(last)
    except ValueError:
        return peer  # a call of the proxy's own (a health check), or a header it did not set
    return f"ipv4:{client}:0" if client.version == 4 else f"ipv6:[{client}]:0"


class ForwardedContext:
    """A servicer context whose `peer()` is the client behind the proxy."""

    __slots__ = ("_context", "_peer")

    def __init__(self, context: Any, peer: str) -> None:
        self._context = context
        self._peer = peer

    def peer(self) -> str:
        return self._peer

    def __getattr__(self, name: str) -> Any:
        return getattr(self._context, name)


class ForwardedPeerInterceptor(grpc.aio.ServerInterceptor):
    def __init__(self, trusted: list[Network]) -> None:
        self.trusted = trusted

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(handler_call_details)
        if handler is None:
            return handler
        metadata = tuple(handler_call_details.invocation_metadata or ())
        trusted = self.trusted

        def wrap(behaviour: Behaviour) -> Behaviour:
            if inspect.isasyncgenfunction(behaviour):

                async def streaming(request: Any, context: Any) -> AsyncIterator[Any]:
                    peer = forwarded_peer(context.peer(), metadata, trusted)
                    async for response in behaviour(request, ForwardedContext(context, peer)):
                        yield response

                return streaming

            async def unary(request: Any, context: Any) -> Any:
                peer = forwarded_peer(context.peer(), metadata, trusted)
                return await behaviour(request, ForwardedContext(context, peer))

            return unary

        return rewrap(handler, wrap)
