"""One artifact in the BitTorrent session: its handle and the awaitables callers wait on.

Values are copied out of alerts and status snapshots as they arrive (an alert dies at the
next `pop_alerts`), so everything here may be read from the event loop at any time.
Runs on the event loop thread only.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from pathlib import Path

import libtorrent as lt

log = logging.getLogger("hivemind.torrent")

# progress(done_bytes, total_bytes), the same shape as the gRPC transfer's callback.
ProgressCallback = Callable[[int, int], None]

ADDING = "adding"
DOWNLOADING = "downloading"
VERIFYING = "verifying"
SEEDING = "seeding"  # complete and verified: safe to use and to share
FAILED = "failed"
REMOVED = "removed"


class Transfer:
    """An artifact being downloaded or seeded. `verified` resolves with the file's path once
    its SHA-256 matched the digest, or with the error that ended the transfer."""

    def __init__(self, torrent: bytes, info_hash: str, digest: str, size: int, path: Path) -> None:
        self.torrent = torrent  # bencoded metadata, to hand on to others
        self.info_hash = info_hash
        self.digest = digest
        self.size = size
        self.path = Path(path)  # the artifact's file
        self.handle: lt.torrent_handle | None = None
        self.state = ADDING
        self.added: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.added.add_done_callback(_retrieve)
        self.checking = False  # libtorrent is hashing files already on disk: not a stall
        self.verified: asyncio.Future[Path] = asyncio.get_running_loop().create_future()
        # Someone always awaits `verified` or not: never warn about an unretrieved error.
        self.verified.add_done_callback(_retrieve)
        self.done_bytes = 0
        self.uploaded_bytes = 0
        self.downloaded_bytes = 0
        self.peers = 0
        self.hash_failures = 0
        self.last_progress_at = time.monotonic()
        self.listeners: list[ProgressCallback] = []

    @property
    def is_verified(self) -> bool:
        return self.state == SEEDING

    def update(self, status: lt.torrent_status) -> None:
        """Copies what matters out of a status snapshot and tells the listeners."""
        done = int(status.total_wanted_done)
        if done > self.done_bytes:
            self.last_progress_at = time.monotonic()
            self.done_bytes = done
            for listener in list(self.listeners):
                try:
                    listener(done, self.size)
                except Exception:
                    log.exception("progress callback failed info_hash=%s", self.info_hash)
        self.uploaded_bytes = int(status.total_payload_upload)
        self.downloaded_bytes = int(status.total_payload_download)
        self.peers = int(status.num_peers)
        self.checking = status.state in _CHECKING

    def mark_verified(self) -> None:
        self.state = SEEDING
        self.done_bytes = self.size
        if not self.verified.done():
            self.verified.set_result(self.path)

    def fail(self, error: BaseException, state: str = FAILED) -> None:
        self.state = state
        for future in (self.added, self.verified):
            if not future.done():
                future.set_exception(error)

    def stalled_for(self) -> float:
        """Seconds since the last byte arrived (or since the download began)."""
        return time.monotonic() - self.last_progress_at

    def restart_stall_clock(self) -> None:
        self.last_progress_at = time.monotonic()


_CHECKING = (
    lt.torrent_status.states.checking_files,
    lt.torrent_status.states.checking_resume_data,
)


def _retrieve(future: asyncio.Future) -> None:
    if not future.cancelled():
        future.exception()
