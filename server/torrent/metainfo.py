"""Torrents of stored artifacts (blocking helpers: call them in a thread).

The same convention as the worker's side (app/services/torrent/metainfo.py, which the server
may not import): single-file, v1-only, named by the artifact's SHA-256, no creation date.
So a worker and the server that make a torrent of the same bytes get the same info hash.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import libtorrent as lt

from server.errors import InvalidArgument

MIN_PIECE_BYTES = 256 * 1024
MAX_PIECE_BYTES = 4 * 1024 * 1024
TARGET_PIECES = 1024
READ_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True)
class ArtifactTorrent:
    torrent: bytes
    info_hash: str
    digest: str  # SHA-256 of the content, as hashed while making the torrent
    size: int


def make_torrent(path: Path) -> ArtifactTorrent:
    """Reads the file once, hashing its SHA-256 and its pieces together."""
    size = Path(path).stat().st_size
    if size == 0:
        raise InvalidArgument("an empty artifact cannot be shared over BitTorrent")
    piece_bytes = MIN_PIECE_BYTES
    while piece_bytes < MAX_PIECE_BYTES and piece_bytes * TARGET_PIECES < size:
        piece_bytes *= 2
    whole = hashlib.sha256()
    piece_hashes: list[bytes] = []
    with Path(path).open("rb") as source:
        # Reading whole pieces keeps piece boundaries trivial; pieces are at most 4 MiB.
        while block := source.read(piece_bytes):
            whole.update(block)
            piece_hashes.append(hashlib.sha1(block).digest())
    digest = whole.hexdigest()
    creator = lt.create_torrent(
        [lt.create_file_entry(digest, size)], piece_bytes, lt.create_torrent.v1_only
    )
    if creator.num_pieces() != len(piece_hashes):
        raise InvalidArgument(f"artifact {digest} changed while it was being hashed")
    for index, piece_hash in enumerate(piece_hashes):
        creator.set_hash(index, piece_hash)
    creator.set_creation_date(0)
    creator.set_creator("")
    torrent = lt.bencode(creator.generate())
    return ArtifactTorrent(torrent, info_hash_of(parse_torrent(torrent)), digest, size)


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
    return str(info.info_hashes().v1)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as source:
        while block := source.read(READ_BYTES):
            digest.update(block)
    return digest.hexdigest()
