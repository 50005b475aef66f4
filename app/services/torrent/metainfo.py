"""Torrent metadata for content-addressed artifacts (blocking helpers: call them in a thread).

An artifact's torrent is single-file, v1-only (SHA-1 pieces: the swarm is private, and one
hash family halves the hashing cost) and named by the artifact's SHA-256, with no creation
date or creator. So the same bytes always give the same info hash, whoever made the torrent:
the server and a worker that made torrents of one file independently join one swarm.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import libtorrent as lt

from app.services.torrent.errors import InvalidTorrent

MIN_PIECE_BYTES = 256 * 1024
MAX_PIECE_BYTES = 4 * 1024 * 1024
# Enough pieces to spread work over many peers, few enough to keep the metadata small.
TARGET_PIECES = 1024
READ_BYTES = 4 * 1024 * 1024

_DIGEST = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class TorrentMeta:
    """An artifact's torrent and what it describes."""

    torrent: bytes  # bencoded .torrent
    info_hash: str  # hex SHA-1 of the info dict
    digest: str  # hex SHA-256 of the content (also the torrent's name, by convention)
    size: int


def is_digest(text: str) -> bool:
    return bool(_DIGEST.match(text or ""))


def piece_size_for(size: int) -> int:
    """A power of two between 256 KiB and 4 MiB giving about TARGET_PIECES pieces."""
    piece = MIN_PIECE_BYTES
    while piece < MAX_PIECE_BYTES and piece * TARGET_PIECES < size:
        piece *= 2
    return piece


def make_torrent(path: Path) -> TorrentMeta:
    """Reads `path` once, hashing its SHA-256 and its pieces together (blocking)."""
    path = Path(path)
    size = path.stat().st_size
    if size == 0:
        # libtorrent cannot describe an empty file; such artifacts travel over gRPC.
        raise InvalidTorrent(f"{path.name} is empty: there is nothing to share over BitTorrent")
    piece_bytes = piece_size_for(size)
    piece_hashes: list[bytes] = []
    whole = hashlib.sha256()
    piece = hashlib.sha1()
    in_piece = 0
    with path.open("rb") as source:
        while block := source.read(READ_BYTES):
            whole.update(block)
            view = memoryview(block)
            while view:
                take = min(len(view), piece_bytes - in_piece)
                piece.update(view[:take])
                in_piece += take
                view = view[take:]
                if in_piece == piece_bytes:
                    piece_hashes.append(piece.digest())
                    piece, in_piece = hashlib.sha1(), 0
    if in_piece:
        piece_hashes.append(piece.digest())
    digest = whole.hexdigest()
    entry = lt.create_file_entry(digest, size)
    creator = lt.create_torrent([entry], piece_bytes, lt.create_torrent.v1_only)
    if creator.num_pieces() != len(piece_hashes):
        raise InvalidTorrent(f"{path.name} changed while it was being hashed; try again")
    for index, piece_hash in enumerate(piece_hashes):
        creator.set_hash(index, piece_hash)
    creator.set_creation_date(0)
    creator.set_creator("")
    torrent = lt.bencode(creator.generate())
    return TorrentMeta(torrent, _info_hash(lt.torrent_info(torrent)), digest, size)


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
    summary = TorrentSummary(_info_hash(info), info.name(), info.total_size(), info.num_pieces())
    return info, summary


def file_sha256(path: Path) -> str:
    """Hex SHA-256 of a file (blocking)."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as source:
        while block := source.read(READ_BYTES):
            digest.update(block)
    return digest.hexdigest()


def _info_hash(info: lt.torrent_info) -> str:
    return str(info.info_hashes().v1)
