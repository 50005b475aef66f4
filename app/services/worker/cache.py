"""The worker's download cache (packages and inputs by digest): kept under the contributor's
size cap by removing the least recently used files. Blocking: call it in a thread."""

from __future__ import annotations

import os
import time
from pathlib import Path

CACHED_KINDS = ("packages", "inputs")
# Files used this recently may be in the middle of being unpacked or linked: never evicted.
MIN_AGE_S = 60.0


def prune_cache(cache_dir: Path, max_mb: int) -> int:
    """Removes least recently used cached artifacts until the cache fits `max_mb` (0 = no
    cap). Returns the bytes freed."""
    if max_mb <= 0:
        return 0
    entries: list[tuple[float, int, Path]] = []
    for kind in CACHED_KINDS:
        folder = Path(cache_dir) / kind
        if not folder.is_dir():
            continue
        for path in folder.iterdir():
            try:
                info = path.stat()
            except OSError:
                continue
            if path.is_file() and not path.name.endswith(".part"):
                entries.append((info.st_mtime, info.st_size, path))
    total = sum(size for _, size, _ in entries)
    limit = max_mb * 1024 * 1024
    freed = 0
    now = time.time()
    for mtime, size, path in sorted(entries):
        if total - freed <= limit:
            break
        if now - mtime < MIN_AGE_S:
            break
        try:
            os.unlink(path)
        except OSError:
            continue
        freed += size
    return freed
