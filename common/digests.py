"""Content addresses: an artifact is named by the SHA-256 of its bytes, written as 64
lower-case hex digits, and Docker names images the same way (`sha256:<hex>`).

Both sides check these names before they let one choose a file or a row, and hash files the
same way. Hashing blocks: call it in a thread when on an event loop.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hashlib import _Hash

READ_BYTES = 1024 * 1024
_HEX = "[0-9a-f]{64}"
_DIGEST = re.compile(_HEX)
_IMAGE_ID = re.compile(f"sha256:{_HEX}")
# A reference pinned by content: REPOSITORY[:TAG]@sha256:<manifest digest>.
_PINNED_REFERENCE = re.compile(rf"[^@\s]+@sha256:{_HEX}")


def is_digest(text: str) -> bool:
    """True for a SHA-256 digest in canonical form: 64 lower-case hex digits, nothing else."""
    return bool(text) and _DIGEST.fullmatch(text) is not None


def is_image_id(text: str) -> bool:
    """True for a Docker image id in full: `sha256:` and a digest."""
    return bool(text) and _IMAGE_ID.fullmatch(text) is not None


def is_pinned_reference(reference: str) -> bool:
    """True for an image reference pinned by content (`REPOSITORY@sha256:<digest>`)."""
    return bool(reference) and _PINNED_REFERENCE.fullmatch(reference) is not None


def hash_file(path: Path | str) -> tuple[_Hash, int]:
    """(SHA-256 hasher fed with the whole file, the file's size); a caller may keep feeding
    the hasher, as a resumed download does with the bytes that follow."""
    hasher = hashlib.sha256()
    size = 0
    with Path(path).open("rb") as source:
        while block := source.read(READ_BYTES):
            hasher.update(block)
            size += len(block)
    return hasher, size


def file_sha256(path: Path | str) -> str:
    """Hex SHA-256 of a file."""
    return hash_file(path)[0].hexdigest()
