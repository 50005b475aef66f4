"""Artifact torrents on the worker's side: common/torrents.py makes and reads them (the one
convention the server follows too, so both get the same info hash for the same bytes); here
its errors become InvalidTorrent, which every caller of the BitTorrent services handles by
falling back to gRPC. Blocking: call these in a thread."""

from __future__ import annotations

from pathlib import Path

import libtorrent as lt

from app.services.torrent.errors import InvalidTorrent
from common.torrents import (
    TorrentMeta,
    TorrentSummary,
    UnusableTorrent,
    build_torrent,
    parse_torrent,
    piece_size_for,
    summarize,
)

__all__ = ["TorrentMeta", "TorrentSummary", "make_torrent", "piece_size_for", "read_torrent"]


def make_torrent(path: Path) -> TorrentMeta:
    """Reads `path` once, hashing its SHA-256 and its pieces together."""
    try:
        return build_torrent(path)
    except UnusableTorrent as exc:
        raise InvalidTorrent(str(exc)) from None


def read_torrent(torrent: bytes) -> tuple[lt.torrent_info, TorrentSummary]:
    """Parses bencoded metadata of a single-file torrent, or raises InvalidTorrent."""
    try:
        info = parse_torrent(torrent)
    except UnusableTorrent as exc:
        raise InvalidTorrent(str(exc)) from None
    return info, summarize(info)
