"""How a download ends: verified (its SHA-256 matched), stalled (the swarm went quiet), or
rejected (the finished file is not the artifact). Event loop only; hashing in a thread."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path

from app.services.torrent.addressing import Peer
from app.services.torrent.alerts import AlertPump
from app.services.torrent.errors import DigestMismatch, TorrentError, TorrentFailed, TorrentStalled
from app.services.torrent.transfer import REMOVED, VERIFYING, Transfer
from common.digests import file_sha256

log = logging.getLogger("hivemind.torrent")

Connect = Callable[[Transfer, list[Peer]], Awaitable[None]]
# drop(transfer, delete_files, error): out of the session, file gone, waiters told `error`.
Drop = Callable[[Transfer, bool, BaseException], Awaitable[None]]
FLUSH_TIMEOUT_S = 30.0


async def wait_verified(
    transfer: Transfer,
    *,
    stall_timeout_s: float,
    reserve: list[Peer],
    reserve_after_s: float,
    connect: Connect,
    drop: Drop,
) -> Path:
    """The verified file's path; connects the reserve peers when the others go quiet for
    `reserve_after_s`, and gives up (TorrentStalled) after `stall_timeout_s` of silence."""
    check_every = max(0.05, min(1.0, stall_timeout_s / 4, reserve_after_s / 4))
    while True:
        done, _ = await asyncio.wait({transfer.verified}, timeout=check_every)
        if done:
            return transfer.verified.result()
        if transfer.state == REMOVED:
            continue  # being taken out; its error arrives once the file is gone
        # Hashing what is already on disk is local work, not a silent swarm.
        if transfer.state == VERIFYING or transfer.checking:
            transfer.restart_stall_clock()
            continue
        if reserve and transfer.stalled_for() >= reserve_after_s:
            log.info("peers idle, adding reserve peers digest=%s", transfer.digest)
            await connect(transfer, reserve)
            reserve = []
            transfer.restart_stall_clock()
            continue
        if transfer.stalled_for() >= stall_timeout_s:
            percent = 100 * transfer.done_bytes // max(1, transfer.size)
            error = TorrentStalled(
                f"no BitTorrent progress for {stall_timeout_s:g} s on artifact "
                f"{transfer.digest} ({percent}% of {transfer.size} bytes, "
                f"{transfer.peers} peers connected)"
            )
            log.warning("%s", error)
            await drop(transfer, True, error)
            raise error


async def verify(transfer: Transfer, pump: AlertPump | None, drop: Drop) -> None:
    """Marks a finished download verified, or drops it (file deleted) when its SHA-256 is
    not the artifact's."""
    transfer.state = VERIFYING
    try:
        actual = await _hash_written(transfer, pump)
        if actual != transfer.digest:
            # A piece can pass its hash check before its blocks reach the file; a second
            # flush settles whether the file itself is wrong.
            actual = await _hash_written(transfer, pump)
    except OSError as exc:
        error: TorrentError = TorrentFailed(f"cannot read downloaded artifact: {exc}")
        await drop(transfer, True, error)
        return
    if actual != transfer.digest:
        log.warning(
            "digest mismatch digest=%s actual=%s info_hash=%s",
            transfer.digest,
            actual,
            transfer.info_hash,
        )
        error = DigestMismatch(
            f"the file received for artifact {transfer.digest} has SHA-256 {actual}; "
            "it was deleted and will not be used"
        )
        await drop(transfer, True, error)
        return
    transfer.mark_verified()
    log.info("downloaded and verified digest=%s", transfer.digest)


async def _hash_written(transfer: Transfer, pump: AlertPump | None) -> str:
    """SHA-256 of the file once libtorrent wrote out every block it holds."""
    if pump is not None and transfer.handle is not None:
        try:
            flushed = pump.flush(transfer.handle, transfer.info_hash)
            await asyncio.wait_for(flushed, FLUSH_TIMEOUT_S)
        except TimeoutError:
            log.warning("disk flush unconfirmed digest=%s", transfer.digest)
    return await asyncio.to_thread(file_sha256, transfer.path)
