"""libtorrent's alerts, polled on a timer and turned into transfer updates and futures.

We poll with `pop_alerts()` because the alert-notify callback deadlocks in the Python
bindings, and copy every value out of an alert before the next pop (which frees it).
The poll is quick (`interval_s`) only while something waits for an alert: a transfer being
added, downloaded or verified, or a caller's future. A session that only seeds, or holds
nothing, is polled every IDLE_INTERVAL_S, so an idle app does not wake ten times a second;
asking for something wakes the poll at once.
Runs on the event loop thread only.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import libtorrent as lt

from app.services.aio import wait_event
from app.services.torrent.errors import TorrentFailed
from app.services.torrent.transfer import ADDING, DOWNLOADING, VERIFYING, Transfer

log = logging.getLogger("hivemind.torrent")
_STATUS_FLAGS = lt.status_flags_t.query_accurate_download_counters
IDLE_INTERVAL_S = 2.0
_ACTIVE_STATES = (ADDING, DOWNLOADING, VERIFYING)


class AlertPump:
    def __init__(
        self,
        session: lt.session,
        transfers: dict[str, Transfer],
        on_finished: Callable[[Transfer], None],
        interval_s: float,
    ) -> None:
        self._session = session
        self._transfers = transfers  # the session's own dict, by info hash
        self._on_finished = on_finished
        self._interval_s = interval_s
        loop = asyncio.get_running_loop()
        self.listening: asyncio.Future[int] = loop.create_future()
        self._stats: list[asyncio.Future[dict[str, int]]] = []
        self._resume: dict[str, asyncio.Future[bytes | None]] = {}
        self._flushes: dict[str, list[asyncio.Future[None]]] = {}
        # info hash -> (future, whether it waits for the files to be deleted too)
        self._removals: dict[str, tuple[asyncio.Future[None], bool]] = {}
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """Polls now and quickly from now on (a transfer was added, a caller waits)."""
        self._wake.set()

    def _busy(self) -> bool:
        return bool(
            not self.listening.done()
            or self._stats
            or self._resume
            or self._flushes
            or self._removals
            or any(t.state in _ACTIVE_STATES for t in self._transfers.values())
        )

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="torrent-alerts")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    # Futures for what callers wait on; each resolves when its alert arrives.

    def session_stats(self) -> asyncio.Future[dict[str, int]]:
        future = asyncio.get_running_loop().create_future()
        self._stats.append(future)
        self._session.post_session_stats()
        self.wake()
        return future

    def resume_data(
        self, handle: lt.torrent_handle, info_hash: str
    ) -> asyncio.Future[bytes | None]:
        future = asyncio.get_running_loop().create_future()
        self._resume[info_hash] = future
        handle.save_resume_data(lt.save_resume_flags_t.save_info_dict)
        self.wake()
        return future

    def flush(self, handle: lt.torrent_handle, info_hash: str) -> asyncio.Future[None]:
        """Resolves once every block received so far is written to the file."""
        future = asyncio.get_running_loop().create_future()
        self._flushes.setdefault(info_hash, []).append(future)
        handle.flush_cache()
        self.wake()
        return future

    def removal(
        self, handle: lt.torrent_handle, info_hash: str, delete_files: bool
    ) -> asyncio.Future[None]:
        future = asyncio.get_running_loop().create_future()
        self._removals[info_hash] = (future, delete_files)
        self._session.remove_torrent(handle, lt.options_t.delete_files if delete_files else 0)
        future.add_done_callback(lambda _: self._removals.pop(info_hash, None))
        self.wake()
        return future

    async def _run(self) -> None:
        while True:
            # Accurate counters count finished blocks of unfinished pieces too, so progress
            # moves smoothly; the other status parts (piece bitfields...) are not needed.
            self._session.post_torrent_updates(_STATUS_FLAGS)
            for alert in self._session.pop_alerts():
                try:
                    self._dispatch(alert)
                except Exception:
                    log.exception("handling %s failed", type(alert).__name__)
            interval = self._interval_s if self._busy() else IDLE_INTERVAL_S
            self._wake.clear()
            await wait_event(self._wake, interval)

    def _dispatch(self, alert: lt.alert) -> None:
        if isinstance(alert, lt.state_update_alert):
            for status in alert.status:
                transfer = self._transfers.get(str(status.info_hashes.v1))
                if transfer is not None:
                    transfer.update(status)
                    if status.is_finished:
                        self._on_finished(transfer)
        elif isinstance(alert, lt.torrent_finished_alert):
            transfer = self._transfers.get(_hash_of(alert.handle))
            if transfer is not None:
                self._on_finished(transfer)
        elif isinstance(alert, lt.hash_failed_alert):
            transfer = self._transfers.get(_hash_of(alert.handle))
            if transfer is not None:
                transfer.hash_failures += 1
            log.warning("piece failed its hash check: %s", alert.message())
        elif isinstance(alert, lt.torrent_error_alert | lt.file_error_alert):
            transfer = self._transfers.get(_hash_of(alert.handle))
            if transfer is not None and transfer.state in (ADDING, DOWNLOADING):
                transfer.fail(TorrentFailed(f"artifact {transfer.digest}: {alert.message()}"))
            log.warning("bittorrent error: %s", alert.message())
        elif isinstance(alert, lt.torrent_removed_alert):
            self._removed(str(alert.info_hashes.v1), files_gone=False)
        elif isinstance(alert, lt.torrent_deleted_alert | lt.torrent_delete_failed_alert):
            if isinstance(alert, lt.torrent_delete_failed_alert):
                log.warning("bittorrent could not delete files: %s", alert.message())
            self._removed(str(alert.info_hashes.v1), files_gone=True)
        elif isinstance(alert, lt.cache_flushed_alert):
            for future in self._flushes.pop(_hash_of(alert.handle), []):
                if not future.done():
                    future.set_result(None)
        elif isinstance(alert, lt.save_resume_data_alert):
            self._resumed(_hash_of(alert.handle), lt.write_resume_data_buf(alert.params))
        elif isinstance(alert, lt.save_resume_data_failed_alert):
            self._resumed(_hash_of(alert.handle), None)
        elif isinstance(alert, lt.session_stats_alert):
            values = dict(alert.values)
            waiters, self._stats = self._stats, []
            for future in waiters:
                if not future.done():
                    future.set_result(values)
        elif isinstance(alert, lt.listen_succeeded_alert | lt.listen_failed_alert):
            self._listen_result(alert)

    def _listen_result(self, alert: lt.alert) -> None:
        if alert.socket_type != lt.socket_type_t.tcp or self.listening.done():
            return
        if isinstance(alert, lt.listen_succeeded_alert):
            self.listening.set_result(alert.port)
        else:
            error = TorrentFailed(f"BitTorrent cannot listen: {alert.message()}")
            self.listening.set_exception(error)

    def _removed(self, info_hash: str, files_gone: bool) -> None:
        future, wants_files_gone = self._removals.get(info_hash, (None, False))
        if future is not None and not future.done() and files_gone >= wants_files_gone:
            future.set_result(None)

    def _resumed(self, info_hash: str, data: bytes | None) -> None:
        future = self._resume.pop(info_hash, None)
        if future is not None and not future.done():
            future.set_result(data)


def _hash_of(handle: lt.torrent_handle) -> str:
    return str(handle.info_hashes().v1) if handle.is_valid() else ""
