"""The worker's one BitTorrent session (libtorrent), made for asyncio.

Alerts are polled on a timer with `pop_alerts()` (the alert-notify callback deadlocks in the
Python bindings) and their values are copied into `Transfer` objects before the next pop.
Calls that may block (adding a torrent waits for the network thread, hashing, file I/O,
destroying the session) run in threads. Public methods run on the event loop.

    async with TorrentSession(TorrentSessionSettings(state_dir=home / "torrent")) as bt:
        path = await bt.download(torrent, cache_dir, peers=[("10.0.0.5", 6881)])
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import libtorrent as lt

from app.services.settings import ClientSettings, SettingsStore
from app.services.torrent import completion, resume
from app.services.torrent.addressing import Peer, digest_of, resolve_peer, torrent_params
from app.services.torrent.alerts import AlertPump
from app.services.torrent.config import (
    TorrentSessionSettings,
    kbps_to_rate,
    limit_every_peer,
    session_pack,
)
from app.services.torrent.errors import (
    DigestMismatch,
    InvalidTorrent,
    SessionClosed,
    TorrentFailed,
)
from app.services.torrent.metainfo import make_torrent, read_torrent
from app.services.torrent.transfer import (
    DOWNLOADING,
    REMOVED,
    VERIFYING,
    ProgressCallback,
    Transfer,
)
from common.digests import file_sha256

log = logging.getLogger("hivemind.torrent")

REMOVE_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class SessionStats:
    """Bytes this session moved since it started (from libtorrent's session counters)."""

    uploaded_bytes: int  # payload sent to peers
    downloaded_bytes: int  # payload received from peers
    sent_bytes: int  # everything sent, protocol and IP overhead included
    received_bytes: int


class TorrentSession:
    def __init__(self, settings: TorrentSessionSettings | None = None) -> None:
        self.settings = settings or TorrentSessionSettings()
        self._lt: lt.session | None = None
        self._transfers: dict[str, Transfer] = {}  # by info hash
        self._port = 0
        self._pump: AlertPump | None = None
        self._background: set[asyncio.Task[None]] = set()
        self._closed = False

    # -- life cycle ------------------------------------------------------------------------

    async def start(self) -> TorrentSession:
        """Opens the session, waits until it listens, and brings back saved transfers."""
        self._lt = await asyncio.to_thread(self._create_session)
        self._pump = AlertPump(
            self._lt, self._transfers, self._start_verify, self.settings.poll_interval_s
        )
        self._pump.start()
        try:
            self._port = await asyncio.wait_for(self._pump.listening, 10)
            await self._load_saved()
        except BaseException:
            await self.close()
            raise
        log.info("bittorrent listening port=%d", self._port)
        return self

    async def __aenter__(self) -> TorrentSession:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def _create_session(self) -> lt.session:
        session = lt.session(session_pack(self.settings))
        limit_every_peer(session)
        return session

    async def close(self) -> None:
        """Saves resume data, stops every transfer and shuts libtorrent down."""
        if self._closed:
            return
        self._closed = True
        if self._lt is not None and self.settings.state_dir is not None:
            try:
                saved = await resume.save_all(
                    self._pump, list(self._transfers.values()), self.settings.state_dir
                )
                log.info("saved bittorrent resume data transfers=%d", saved)
            except Exception:
                log.exception("saving bittorrent resume data failed")
        if self._pump is not None:
            await self._pump.stop()
        for task in list(self._background):
            task.cancel()
        await asyncio.gather(*self._background, return_exceptions=True)
        for transfer in self._transfers.values():
            transfer.fail(SessionClosed("the BitTorrent session was closed"))
        self._transfers.clear()
        holder = [self._lt]
        self._lt = None
        # Dropping the last reference runs libtorrent's destructor, which waits for its
        # network thread: do it off the loop.
        await asyncio.to_thread(holder.clear)

    # -- settings --------------------------------------------------------------------------

    @property
    def listen_port(self) -> int:
        """The TCP port peers connect to (known once `start` returned)."""
        return self._port

    @property
    def endpoint(self) -> str:
        return f"{self.settings.listen_interface}:{self._port}"

    def set_rate_limits(self, upload_rate: int, download_rate: int) -> None:
        """Bytes/s for everything this session sends and receives; 0 = unlimited."""
        self.settings.upload_rate = max(0, int(upload_rate))
        self.settings.download_rate = max(0, int(download_rate))
        if self._lt is not None:
            # apply_settings only posts to libtorrent's thread: safe from any thread.
            self._lt.apply_settings(
                {
                    "upload_rate_limit": self.settings.upload_rate,
                    "download_rate_limit": self.settings.download_rate,
                }
            )

    def follow(self, store: SettingsStore) -> Callable[[], None]:
        """Applies the contributor's bandwidth sliders now and on every change; returns the
        function that stops following."""

        def apply(settings: ClientSettings) -> None:
            contributor = settings.contributor
            limits = (
                kbps_to_rate(contributor.upload_kbps),
                kbps_to_rate(contributor.download_kbps),
            )
            if limits != (self.settings.upload_rate, self.settings.download_rate):
                log.info("bittorrent rate limits upload=%d download=%d bytes/s", *limits)
                self.set_rate_limits(*limits)

        apply(store.settings)
        return store.subscribe(apply)

    # -- torrents --------------------------------------------------------------------------

    async def create_torrent(self, path: Path) -> tuple[bytes, str]:
        """The torrent of the file at `path` and its info hash (hashing runs in a thread)."""
        meta = await asyncio.to_thread(make_torrent, Path(path))
        return meta.torrent, meta.info_hash

    async def seed(self, path: Path, torrent: bytes, *, verify: bool = False) -> str:
        """Shares the file at `path`, which the caller vouches is the artifact the torrent
        describes (`verify=True` checks its SHA-256 first). Returns the info hash."""
        self._check_open()
        info, summary = read_torrent(torrent)
        path = Path(path)
        digest = digest_of(summary.name, None)
        size = (await asyncio.to_thread(path.stat)).st_size
        if size != summary.size:
            raise InvalidTorrent(
                f"{path.name} holds {size} bytes but its torrent describes {summary.size}"
            )
        if verify:
            actual = await asyncio.to_thread(file_sha256, path)
            if actual != digest:
                raise DigestMismatch(
                    f"{path.name} is not artifact {digest}: its SHA-256 is {actual}"
                )
        existing = self._transfers.get(summary.info_hash)
        if existing is not None:
            if existing.is_verified:
                return summary.info_hash
            # An unfinished download of the same artifact: the file at `path` replaces it
            # (and is not deleted with it when it is the same path).
            replaced = SessionClosed(f"artifact {digest} is now seeded from {path}")
            await self._drop(existing, existing.path != path, replaced)
        params = torrent_params(info, path.parent, seed=True)
        if path.name != summary.name:
            params.renamed_files = {0: path.name}
        transfer = Transfer(bytes(torrent), summary.info_hash, digest, summary.size, path)
        await self._add(transfer, params)
        transfer.mark_verified()
        log.info("seeding digest=%s info_hash=%s", digest, summary.info_hash)
        return summary.info_hash

    async def download(
        self,
        torrent: bytes,
        dest_dir: Path,
        peers: Iterable[Peer] = (),
        progress: ProgressCallback | None = None,
        *,
        expected_sha256: str | None = None,
        stall_timeout_s: float | None = None,
        reserve_peers: Iterable[Peer] = (),
        reserve_after_s: float = 2.0,
    ) -> Path:
        """Fetches the artifact into `dest_dir` (named by its digest) and returns its path
        once its SHA-256 matched; it keeps being seeded afterwards. Raises TorrentStalled
        when no byte arrives for `stall_timeout_s`, DigestMismatch when the finished file is
        not the artifact (the file is removed first).

        `reserve_peers` (the server) are connected only when `peers` deliver nothing for
        `reserve_after_s`, or at once when there are no `peers`: what workers can get from
        each other the server does not have to send."""
        self._check_open()
        info, summary = read_torrent(torrent)
        digest = digest_of(summary.name, expected_sha256)
        transfer = self._transfers.get(summary.info_hash)
        if transfer is None:
            path = Path(dest_dir) / summary.name
            transfer = Transfer(bytes(torrent), summary.info_hash, digest, summary.size, path)
            await asyncio.to_thread(Path(dest_dir).mkdir, parents=True, exist_ok=True)
            await self._add(transfer, torrent_params(info, Path(dest_dir), seed=False))
            transfer.state = DOWNLOADING
            log.info("downloading digest=%s info_hash=%s", digest, summary.info_hash)
        elif transfer.digest != digest:
            raise InvalidTorrent(
                f"torrent {summary.info_hash} is artifact {transfer.digest}, not {digest}"
            )
        await transfer.added
        if transfer.is_verified:
            if progress is not None:
                progress(transfer.size, transfer.size)
            return transfer.path
        if progress is not None:
            transfer.listeners.append(progress)
        peers, reserve = list(peers), list(reserve_peers)
        if not peers:
            peers, reserve = reserve, []
        try:
            await self._connect(transfer, peers)
            transfer.restart_stall_clock()
            return await completion.wait_verified(
                transfer,
                stall_timeout_s=stall_timeout_s or self.settings.stall_timeout_s,
                reserve=reserve,
                reserve_after_s=reserve_after_s,
                connect=self._connect,
                drop=self._drop,
            )
        finally:
            if progress is not None and progress in transfer.listeners:
                transfer.listeners.remove(progress)

    async def add_peers(self, digest: str, peers: Iterable[Peer]) -> None:
        """Connects the artifact's torrent to more peers (say, ones that just got it)."""
        transfer = self._find(digest)
        if transfer is not None and transfer.handle is not None:
            await self._connect(transfer, peers)

    def seeding_digests(self) -> list[str]:
        """Digests of the artifacts this session holds verified and shares."""
        return sorted(t.digest for t in self._transfers.values() if t.is_verified)

    def known_digests(self) -> list[str]:
        """Digests of every artifact in the session, complete or not."""
        return sorted(t.digest for t in self._transfers.values())

    def path_of(self, digest: str) -> Path | None:
        transfer = self._find(digest)
        return transfer.path if transfer is not None else None

    def torrent_of(self, digest: str) -> bytes | None:
        """The artifact's torrent metadata, if the session holds it."""
        transfer = self._find(digest)
        return transfer.torrent if transfer is not None else None

    def is_seeding(self, digest: str) -> bool:
        transfer = self._find(digest)
        return transfer is not None and transfer.is_verified

    async def remove(self, digest: str, *, delete_files: bool = False) -> bool:
        """Stops sharing (or fetching) the artifact; False when it was not in the session."""
        transfer = self._find(digest)
        if transfer is None:
            return False
        await self._drop(transfer, delete_files, SessionClosed(f"artifact {digest} was removed"))
        return True

    async def stats(self) -> SessionStats:
        self._check_open()
        values = await asyncio.wait_for(self._pump.session_stats(), 10)
        return SessionStats(
            uploaded_bytes=values["net.sent_payload_bytes"],
            downloaded_bytes=values["net.recv_payload_bytes"],
            sent_bytes=values["net.sent_bytes"],
            received_bytes=values["net.recv_bytes"],
        )

    # -- internals -------------------------------------------------------------------------

    def _check_open(self) -> None:
        if self._lt is None or self._closed:
            raise SessionClosed("the BitTorrent session is not running")

    def _find(self, digest: str) -> Transfer | None:
        for transfer in self._transfers.values():
            if transfer.digest == digest:
                return transfer
        return None

    async def _add(self, transfer: Transfer, params: lt.add_torrent_params) -> None:
        self._transfers[transfer.info_hash] = transfer
        if self._pump is not None:
            self._pump.wake()  # follow this transfer closely from now on
        try:
            transfer.handle = await asyncio.to_thread(self._lt.add_torrent, params)
        except RuntimeError as exc:
            del self._transfers[transfer.info_hash]
            error = TorrentFailed(f"cannot add the torrent of artifact {transfer.digest}: {exc}")
            transfer.fail(error)
            raise error from None
        transfer.added.set_result(None)

    async def _connect(self, transfer: Transfer, peers: Iterable[Peer]) -> None:
        for peer in peers:
            try:
                host, port = await resolve_peer(peer)
                transfer.handle.connect_peer((host, port))
            except (OSError, ValueError, RuntimeError) as exc:
                log.warning("cannot connect to peer %s digest=%s: %s", peer, transfer.digest, exc)

    async def _drop(self, transfer: Transfer, delete_files: bool, error: BaseException) -> None:
        """Takes the transfer out of the session (and its file off the disk if asked), then
        fails its waiters with `error`: once they hear, the file is gone."""
        if transfer.state == REMOVED:
            return
        transfer.state = REMOVED
        if self._transfers.get(transfer.info_hash) is transfer:
            del self._transfers[transfer.info_hash]
        if self._pump is not None and transfer.handle is not None:
            removed = self._pump.removal(transfer.handle, transfer.info_hash, delete_files)
            try:
                await asyncio.wait_for(removed, REMOVE_TIMEOUT_S)
            except TimeoutError:
                log.warning("torrent removal unconfirmed info_hash=%s", transfer.info_hash)
        if delete_files:
            await asyncio.to_thread(transfer.path.unlink, missing_ok=True)
        if self.settings.state_dir is not None:
            await asyncio.to_thread(resume.forget, self.settings.state_dir, transfer.info_hash)
        transfer.fail(error, state=REMOVED)

    def _start_verify(self, transfer: Transfer) -> None:
        if transfer.state != DOWNLOADING:
            return  # seeded, already verifying, or gone
        transfer.state = VERIFYING
        task = asyncio.create_task(
            completion.verify(transfer, self._pump, self._drop),
            name=f"verify-{transfer.digest[:12]}",
        )
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _load_saved(self) -> None:
        if self.settings.state_dir is None:
            return
        for saved in await asyncio.to_thread(resume.load, self.settings.state_dir):
            transfer = Transfer(
                saved.torrent, saved.info_hash, saved.digest, saved.size, saved.path
            )
            try:
                await self._add(transfer, saved.params)
            except TorrentFailed as exc:
                log.warning("cannot resume digest=%s: %s", saved.digest, exc)
                continue
            if saved.verified:
                transfer.mark_verified()
            else:
                transfer.state = DOWNLOADING
        if self._transfers:
            log.info("resumed bittorrent transfers=%d", len(self._transfers))
