"""Peers and add-torrent parameters: small pure helpers of the session."""

from __future__ import annotations

import asyncio
import socket
from ipaddress import ip_address
from pathlib import Path

import libtorrent as lt

from app.services.torrent.errors import InvalidTorrent
from common.digests import is_digest
from common.network import split_host_port

Peer = tuple[str, int] | str  # ("host", port) or "host:port"


def torrent_params(info: lt.torrent_info, save_path: Path, seed: bool) -> lt.add_torrent_params:
    params = lt.add_torrent_params()
    params.ti = info
    params.save_path = str(save_path)
    # Not auto-managed: libtorrent would otherwise pause all but a handful of seeds.
    flags = params.flags & ~(lt.torrent_flags.auto_managed | lt.torrent_flags.paused)
    if seed:
        # Pieces are checked lazily as they are read for upload instead of all up front.
        flags |= lt.torrent_flags.seed_mode
    params.flags = flags
    return params


def digest_of(name: str, expected_sha256: str | None) -> str:
    """The digest a torrent's content must have: the one expected, else its name."""
    digest = (expected_sha256 or name or "").strip().lower()
    if not is_digest(digest):
        raise InvalidTorrent(
            "cannot check this torrent's content: it is not named by a SHA-256 digest "
            "and no expected digest was given"
        )
    return digest


async def resolve_peer(peer: Peer) -> tuple[str, int]:
    """(ip, port) for libtorrent's connect_peer, which takes addresses, not names."""
    if isinstance(peer, str):
        host, port_text = split_host_port(peer)
        port = int(port_text)
    else:
        host, port = peer[0], int(peer[1])
    if not host or not 0 < port < 65536:
        raise ValueError(f"not a peer address: {peer!r}")
    try:
        ip_address(host)
        return host, port
    except ValueError:
        infos = await asyncio.to_thread(socket.getaddrinfo, host, port, type=socket.SOCK_STREAM)
        return infos[0][4][0], port
