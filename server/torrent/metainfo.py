"""Torrents of stored artifacts: common/torrents.py makes and reads them (the one convention
workers follow too: a worker and the server that make a torrent of the same bytes get the
same info hash); here its errors become InvalidArgument for the caller. Blocking: call these
in a thread."""

from __future__ import annotations

from pathlib import Path

import libtorrent as lt

from common import torrents
from common.torrents import TorrentMeta, UnusableTorrent, build_torrent
from server.errors import InvalidArgument

__all__ = ["make_torrent", "parse_torrent"]


def make_torrent(path: Path) -> TorrentMeta:
    """Reads the file once, hashing its SHA-256 and its pieces together."""
    try:
        return build_torrent(path)
    except UnusableTorrent as exc:
        raise InvalidArgument(str(exc)) from None


def parse_torrent(torrent: bytes) -> lt.torrent_info:
    """The metadata of a single-file torrent, or InvalidArgument."""
    try:
        return torrents.parse_torrent(torrent)
    except UnusableTorrent as exc:
        raise InvalidArgument(str(exc)) from None
