"""What a task's work directory holds, against the task's disk caps: bytes and files.

Both executors measure it the same way, from a thread (it walks the folder: blocking). Bytes
are the blocks really allocated, so a sparse file counts for what it uses. Files are counted
too: an empty file takes no block but an inode and a directory entry, so 40,000 of them pass
any byte cap while exhausting a small filesystem's inodes and slowing everything that walks
the folder (packing the result, removing it). `TaskSpec.max_files` caps them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MB = 1024 * 1024


@dataclass(frozen=True)
class DiskUsage:
    bytes: int
    files: int  # every entry: files, folders, links

    def over(self, spec: Any) -> str:
        """Why the task must be killed, in one line; "" while within its caps."""
        if spec.disk_mb > 0 and self.bytes > spec.disk_mb * MB:
            return f"killed: disk limit exceeded ({spec.disk_mb} MB)"
        if spec.max_files > 0 and self.files > spec.max_files:
            return f"killed: too many files (more than {spec.max_files}) in the work directory"
        return ""


def disk_usage(path: Path, stop_above_files: int = 0) -> DiskUsage:
    """Bytes and entries under `path`; the walk stops once more than `stop_above_files`
    entries were seen (when given): past the cap, the exact number does not matter."""
    total = files = 0
    for root, dirs, names in os.walk(path):
        files += len(dirs) + len(names)
        for name in names:
            try:
                info = os.lstat(os.path.join(root, name))
            except OSError:
                continue
            blocks = getattr(info, "st_blocks", None)
            total += blocks * 512 if blocks is not None else info.st_size
        if stop_above_files and files > stop_above_files:
            break
    return DiskUsage(total, files)
