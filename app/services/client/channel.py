"""Opening the gRPC channel to a HiveMind server: address parsing and the transport rule.

TLS (with a CA file or the system store) when the settings ask for it; plaintext only to a
loopback address, or when the user explicitly set `insecure` — credentials must not cross a
network in the clear by accident.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import grpc

from common.network import is_loopback

DEFAULT_PORT = 50051
MAX_MESSAGE_BYTES = 16 * 1024 * 1024


class ChannelRefused(ValueError):
    """The channel cannot be opened as configured; the message says why and what to do, and
    `reason` names the case: BAD_ADDRESS, CA_FILE_UNREADABLE or PLAINTEXT_REFUSED."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


def parse_server_address(address: str) -> tuple[str, int]:
    """'host:port', '[::1]:50051' or 'host' -> (host, port); ValueError when malformed."""
    text = address.strip()
    if not text:
        raise ValueError("server address is empty (use HOST:PORT, e.g. 127.0.0.1:50051)")
    if text.startswith("["):
        host, sep, rest = text[1:].partition("]")
        port_text = rest[1:] if rest.startswith(":") else ""
        if not sep or (rest and not rest.startswith(":")):
            raise ValueError(f"bad server address {address!r} (use [IPv6]:PORT)")
    elif text.count(":") == 1:
        host, port_text = text.split(":")
    else:
        host, port_text = text, ""  # a bare host name or IPv6 address
    if not host:
        raise ValueError(f"bad server address {address!r}: no host")
    try:
        port = int(port_text) if port_text else DEFAULT_PORT
    except ValueError:
        raise ValueError(f"bad server address {address!r}: port must be a number") from None
    if not 0 < port < 65536:
        raise ValueError(f"bad server address {address!r}: port out of range")
    return host, port


async def open_channel(server: str, tls: bool, ca_file: str, insecure: bool) -> grpc.aio.Channel:
    """A channel to `server` following the transport rule; ChannelRefused otherwise."""
    try:
        host, port = parse_server_address(server)
    except ValueError as exc:
        raise ChannelRefused(str(exc), "BAD_ADDRESS") from None
    target = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    options = [
        ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
        ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
        # Reconnect soon after a server restart instead of grpc's default 1 s..120 s.
        ("grpc.initial_reconnect_backoff_ms", 250),
        ("grpc.max_reconnect_backoff_ms", 5000),
    ]
    if tls:
        roots = None
        if ca_file:
            try:
                roots = await asyncio.to_thread(Path(ca_file).expanduser().read_bytes)
            except OSError as exc:
                raise ChannelRefused(
                    f"cannot read CA file {ca_file}: {exc.strerror or exc}", "CA_FILE_UNREADABLE"
                ) from None
        credentials = grpc.ssl_channel_credentials(root_certificates=roots)
        return grpc.aio.secure_channel(target, credentials, options=options)
    if is_loopback(host) or insecure:
        return grpc.aio.insecure_channel(target, options=options)
    raise ChannelRefused(
        f"refusing to talk to {server} in plaintext: turn on TLS in the settings, "
        "or set insecure if you trust this network",
        "PLAINTEXT_REFUSED",
    )
