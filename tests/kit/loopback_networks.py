"""Distinct networks on one machine: the server tells networks apart by the address it sees
a call come from (server/nodes/networks.py), and every test client runs on 127.0.0.1.

On Linux all of 127.0.0.0/8 is loopback, so a client may connect *from* any 127.x.y.z. gRPC's
Python client cannot choose its source address, so each simulated machine dials a relay:
a small TCP forwarder listening on 127.0.0.1 that opens each connection to the server from
the machine's own source address, then copies bytes both ways. The server sees that
address through its real peer-address code, over real TCP; nothing in the server knows it
is being tested.

`Network()` is one IPv4 /24 (127.N.M.0/24, never 127.0.0.0/24, where 127.0.0.1 lives);
`network.machine()` is the next host in it. `await channel_from(address, host)` is a
gRPC channel to the server at `address` whose calls come from `host`. Everything opened is
closed by `close_all()`, which the server fixtures of tests/conftest.py (`make_server`,
`server_process`) call when they stop their servers.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from dataclasses import dataclass, field

import grpc

from tests.kit.stubs import Stubs

_networks = itertools.count(1)


@dataclass
class Network:
    """One /24 of loopback addresses: what the server counts as one network."""

    prefix: str = field(default="")
    _hosts: itertools.count = field(default_factory=lambda: itertools.count(1))

    def __post_init__(self) -> None:
        if not self.prefix:
            number = next(_networks)
            self.prefix = f"127.{1 + number // 256 % 254}.{number % 256}"

    def machine(self) -> str:
        """The address of another machine on this network."""
        return f"{self.prefix}.{next(self._hosts) % 254 + 1}"

    @property
    def cidr(self) -> str:
        return f"{self.prefix}.0/24"


class Relay:
    """Listens on 127.0.0.1 and forwards each connection to `target`, connecting from
    `source` (an address of 127.0.0.0/8)."""

    def __init__(self, target: str, source: str) -> None:
        host, _, port = target.rpartition(":")
        self.target = (host.strip("[]"), int(port))
        self.source = source
        self.address = ""
        self._server: asyncio.Server | None = None
        self._pipes: set[asyncio.Task] = set()
        self._writers: set[asyncio.StreamWriter] = set()

    async def start(self) -> Relay:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        self.address = f"127.0.0.1:{port}"
        return self

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        try:
            up_reader, up_writer = await asyncio.open_connection(
                *self.target, local_addr=(self.source, 0)
            )
        except OSError:
            writer.close()
            self._writers.discard(writer)
            return
        self._writers.add(up_writer)
        for source, sink in ((reader, up_writer), (up_reader, writer)):
            pipe = asyncio.create_task(self._pipe(source, sink))
            self._pipes.add(pipe)
            pipe.add_done_callback(self._pipes.discard)

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except (OSError, asyncio.CancelledError):
            pass
        finally:
            writer.close()
            self._writers.discard(writer)

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for writer in list(self._writers):
            writer.close()
        for pipe in list(self._pipes):
            pipe.cancel()
        if self._pipes:
            await asyncio.gather(*self._pipes, return_exceptions=True)
        if self._server is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 1.0)


_relays: list[Relay] = []
_channels: list[grpc.aio.Channel] = []
# A server killed and started again (tests/security/test_crash.py) is found again at once:
# a refused connection is retried after 100-500 ms. Not grpc.min_reconnect_backoff_ms: C-core
# also takes it as the deadline of each connection attempt (20 s by default), and at 100 ms an
# attempt through a relay on a busy event loop timed out "before receiving SETTINGS frame".
RECONNECT = [
    ("grpc.initial_reconnect_backoff_ms", 100),
    ("grpc.max_reconnect_backoff_ms", 500),
]


async def channel_from(address: str, source: str) -> grpc.aio.Channel:
    """A channel to the server at `address` whose calls the server sees come from
    `source`."""
    relay = await Relay(address, source).start()
    _relays.append(relay)
    channel = grpc.aio.insecure_channel(relay.address, options=RECONNECT)
    _channels.append(channel)
    return channel


async def stubs_from(stubs: Stubs, network: Network | None = None) -> Stubs:
    """Stubs to the server of `stubs` whose calls come from a new machine of `network` (of
    a network of its own when None)."""
    if not stubs.address:
        raise ValueError("these stubs do not say their server's address: Stubs(channel, address)")
    channel = await channel_from(stubs.address, (network or Network()).machine())
    return Stubs(channel, stubs.address)


async def close_all() -> None:
    """Closes every channel and relay opened since the last call."""
    channels, relays = list(_channels), list(_relays)
    _channels.clear()
    _relays.clear()
    for channel in channels:
        await channel.close()
    for relay in relays:
        await relay.close()
