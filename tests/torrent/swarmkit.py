"""Helpers for the BitTorrent tests: random artifacts and their digests."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

MB = 1024 * 1024
LOOPBACK = "127.0.0.1"


def write_artifact(path: Path, size: int) -> str:
    """Writes `size` random bytes to `path` and returns their SHA-256."""
    path.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    with path.open("wb") as out:
        left = size
        while left:
            block = os.urandom(min(left, 4 * MB))
            out.write(block)
            digest.update(block)
            left -= len(block)
    return digest.hexdigest()


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as source:
        while block := source.read(4 * MB):
            digest.update(block)
    return digest.hexdigest()
