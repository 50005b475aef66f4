"""Torrent metadata for content-addressed artifacts, on the worker's side (blocking helpers:
call them in a thread). Torrents are made by common/torrents.py, the one convention
the server follows too, so both get the same info hash for the same bytes."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import libtorrent as lt

from app.services.torrent.errors import InvalidTorrent
from common.torrents import (
    ChangedWhileHashing,
    EmptyFile,
    TorrentMeta,
    build_torrent,
    info_hash,
    piece_size_for,
)

__all__ = ["TorrentMeta", "make_torrent", "piece_size_for"]


def make_torrent(path: Path) -> TorrentMeta:
    """Reads `path` once, hashing its SHA-256 and its pieces together (blocking)."""
    path = Path(path)
    try:
        return build_torrent(path)
    except EmptyFile:
        raise InvalidTorrent(
            f"{path.name} is empty: there is nothing to share over BitTorrent"
        ) from None
    except ChangedWhileHashing:
        raise InvalidTorrent(f"{path.name} changed while it was being hashed; try again") from None


@dataclass(frozen=True)
class TorrentSummary:
    """What a torrent says about its content, read without touching any file."""

    info_hash: str
    name: str
    size: int
    num_pieces: int


def read_torrent(torrent: bytes) -> tuple[lt.torrent_info, TorrentSummary]:
    """Parses bencoded metadata of a single-file torrent, or raises InvalidTorrent."""
    if not torrent:
        raise InvalidTorrent("no torrent metadata was given")
    try:
        info = lt.torrent_info(lt.bdecode(bytes(torrent)))
    except (RuntimeError, TypeError, ValueError) as exc:
        raise InvalidTorrent(f"the torrent metadata is malformed: {exc}") from None
    if info.num_files() != 1:
        raise InvalidTorrent(
            f"an artifact torrent holds one file, this one holds {info.num_files()}"
        )
    summary = TorrentSummary(info_hash(info), info.name(), info.total_size(), info.num_pieces())
    return info, summary
