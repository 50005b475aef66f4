"""An artifact's torrent, made and read the same way by the server and by workers (blocking:
call it in a thread when on an event loop).

Single-file, v1-only (SHA-1 pieces: the swarm is private, and one hash family halves the
hashing cost), named by the artifact's SHA-256, with no creation date or creator, and a piece
size that depends only on the file's size. So the same bytes always give the same info hash,
whoever made the torrent: the server and a worker that made torrents of one file
independently join one swarm. This module is that contract; both sides call it.

libtorrent is imported when a torrent is made or read, not with this module: what only needs
the units or the errors here does not load the native library.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import libtorrent as lt

MIN_PIECE_BYTES = 256 * 1024
MAX_PIECE_BYTES = 4 * 1024 * 1024
# Enough pieces to spread work over many peers, few enough to keep the metadata small.
TARGET_PIECES = 1024


class UnusableTorrent(ValueError):
    """No artifact torrent can be made or read from this; the message says why in one line.
    Each side re-raises it as its own error type."""


class EmptyFile(UnusableTorrent):
    """libtorrent cannot describe an empty file; such artifacts travel over gRPC."""


class ChangedWhileHashing(UnusableTorrent):
    """The file's size changed between reading its size and hashing it."""


class MalformedTorrent(UnusableTorrent):
    """The metadata is not a single-file torrent."""


@dataclass(frozen=True)
class TorrentMeta:
    """An artifact's torrent and what it describes."""

    torrent: bytes  # bencoded .torrent
    info_hash: str  # hex SHA-1 of the info dict
    digest: str  # hex SHA-256 of the content, as hashed while making the torrent
    size: int


@dataclass(frozen=True)
class TorrentSummary:
    """What a torrent says about its content, read without touching any file."""

    info_hash: str
    name: str
    size: int
    num_pieces: int


def piece_size_for(size: int) -> int:
    """A power of two between 256 KiB and 4 MiB giving about TARGET_PIECES pieces."""
    piece = MIN_PIECE_BYTES
    while piece < MAX_PIECE_BYTES and piece * TARGET_PIECES < size:
        piece *= 2
    return piece


def build_torrent(path: Path | str) -> TorrentMeta:
    """Reads `path` once, hashing its SHA-256 and its pieces together. Raises EmptyFile or
    ChangedWhileHashing."""
    import libtorrent as lt

    path = Path(path)
    size = path.stat().st_size
    if size == 0:
        raise EmptyFile(f"{path.name} is empty: there is nothing to share over BitTorrent")
    piece_bytes = piece_size_for(size)
    whole = hashlib.sha256()
    piece_hashes: list[bytes] = []
    with path.open("rb") as source:
        # Reading whole pieces keeps piece boundaries trivial; pieces are at most 4 MiB.
        while block := source.read(piece_bytes):
            whole.update(block)
            piece_hashes.append(hashlib.sha1(block).digest())
    digest = whole.hexdigest()
    creator = lt.create_torrent(
        [lt.create_file_entry(digest, size)], piece_bytes, lt.create_torrent.v1_only
    )
    if creator.num_pieces() != len(piece_hashes):
        raise ChangedWhileHashing(f"{path.name} changed while it was being hashed; try again")
    for index, piece_hash in enumerate(piece_hashes):
        creator.set_hash(index, piece_hash)
    creator.set_creation_date(0)
    creator.set_creator("")
    torrent = lt.bencode(creator.generate())
    return TorrentMeta(torrent, info_hash(lt.torrent_info(torrent)), digest, size)


def parse_torrent(torrent: bytes) -> lt.torrent_info:
    """The metadata of a single-file torrent; MalformedTorrent when it is not one."""
    import libtorrent as lt

    if not torrent:
        raise MalformedTorrent("no torrent metadata was given")
    try:
        info = lt.torrent_info(lt.bdecode(bytes(torrent)))
    except (RuntimeError, TypeError, ValueError) as exc:
        raise MalformedTorrent(f"malformed torrent metadata: {exc}") from None
    if info.num_files() != 1:
        raise MalformedTorrent(
            f"an artifact torrent holds exactly one file, this one holds {info.num_files()}"
        )
    return info


def summarize(info: lt.torrent_info) -> TorrentSummary:
    return TorrentSummary(info_hash(info), info.name(), info.total_size(), info.num_pieces())


def info_hash(info: lt.torrent_info) -> str:
    return str(info.info_hashes().v1)
