"""Torrents of stored artifacts (blocking helpers: call them in a thread).

Torrents are made by common/torrents.py, the one convention workers follow too: a
worker and the server that make a torrent of the same bytes get the same info hash.
"""

from __future__ import annotations

from pathlib import Path

import libtorrent as lt

from common.torrents import (
    ChangedWhileHashing,
    EmptyFile,
    TorrentMeta,
    build_torrent,
    info_hash,
)
from server.errors import InvalidArgument

__all__ = ["ArtifactTorrent", "info_hash_of", "make_torrent", "parse_torrent"]

ArtifactTorrent = TorrentMeta


def make_torrent(path: Path) -> ArtifactTorrent:
    """Reads the file once, hashing its SHA-256 and its pieces together."""
    try:
        return build_torrent(path)
    except EmptyFile:
        raise InvalidArgument("an empty artifact cannot be shared over BitTorrent") from None
    except ChangedWhileHashing:
        name = Path(path).name
        raise InvalidArgument(f"artifact {name} changed while it was being hashed") from None


def parse_torrent(torrent: bytes) -> lt.torrent_info:
    """The metadata of a single-file torrent, or InvalidArgument."""
    try:
        info = lt.torrent_info(lt.bdecode(bytes(torrent or b"")))
    except (RuntimeError, TypeError, ValueError) as exc:
        raise InvalidArgument(f"malformed torrent metadata: {exc}") from None
    if info.num_files() != 1:
        raise InvalidArgument("an artifact torrent must hold exactly one file")
    return info


def info_hash_of(info: lt.torrent_info) -> str:
    return info_hash(info)
