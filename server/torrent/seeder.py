"""The server's BitTorrent session: it seeds the artifacts it stores and pulls results from
workers that seed them.

Workers dial out and the server never dials a worker: a worker connects to the server's BT
port, and `pull` then downloads over that same connection (or from any peer it is given).
The server uploads to one peer at a time, rotating every second: each piece it sends is one
the swarm lacks (peers pick rarest first), and workers trade pieces among themselves. So
the server sends an artifact about once, however many workers fetch it (measured on
loopback: 1.03-1.10x for 8 workers; with every peer unchoked it was 2-3.5x). Workers help
from their side: they connect to the nodes GetTorrent lists first and to the server only
when those go quiet (app/services/torrent/fetch.py).

A pulled result lands in a directory the caller names; once the artifact store holds it,
`remember(digest, torrent)` keeps its torrent and seeds it from the store.

Memory is bounded: at most `settings.bt_max_seeded_torrents` torrents are in the session,
the least recently asked for leave first (their torrents stay in the database and are seeded
again on the next request), and a lock exists only for a digest being worked on.

Alerts are polled on a timer with `pop_alerts()` (the alert-notify callback deadlocks in the
Python bindings); calls that block (adding torrents, status, hashing, DB) run in threads.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import libtorrent as lt
from sqlalchemy import Connection, select, update

from common import torrents
from common.bounded import BoundedCache
from common.digests import file_sha256
from server.config import ServerSettings
from server.errors import AlreadyExists, FailedPrecondition, InvalidArgument, NotFound
from server.store.db import Database
from server.store.schema import artifacts
from server.torrent.metainfo import make_torrent, parse_torrent
from server.torrent.swarm import SwarmBook

log = logging.getLogger("hivemind.seeder")

WILDCARDS = ("", "0.0.0.0", "::")


@dataclass(frozen=True)
class SeedInfo:
    digest: str
    torrent: bytes
    info_hash: str


@dataclass(frozen=True)
class SeederStats:
    uploaded_bytes: int  # payload sent to peers since start
    downloaded_bytes: int
    sent_bytes: int  # with protocol and IP overhead
    received_bytes: int


class Seeder:
    def __init__(
        self,
        settings: ServerSettings,
        db: Database,
        artifact_path: Callable[[str], Path],
        *,
        upload_slots: int = 1,
        stall_timeout_s: float = 30.0,
        poll_interval_s: float = 0.1,
    ) -> None:
        self.settings = settings
        self.db = db
        self.artifact_path = artifact_path  # ArtifactStore.path_for
        self.host = _listen_host(settings.listen)
        self.upload_slots = upload_slots
        self.stall_timeout_s = stall_timeout_s
        self.poll_interval_s = poll_interval_s
        self.port = 0
        self.swarm = SwarmBook()  # nodes fetching each artifact right now
        self._lt: lt.session | None = None
        # digest -> handle of the torrents in the session, least recently asked for first
        self._seeding: BoundedCache[str, lt.torrent_handle] = BoundedCache(
            max(1, settings.bt_max_seeded_torrents)
        )
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}  # digest -> (lock, users)
        self._listening: asyncio.Future[int] | None = None
        self._stats: list[asyncio.Future[dict[str, int]]] = []
        self._flushes: dict[str, asyncio.Future[None]] = {}  # by info hash
        self._poller: asyncio.Task[None] | None = None

    # -- life cycle ------------------------------------------------------------------------

    async def start(self) -> Seeder:
        """Listens, then seeds every stored artifact that already has a torrent."""
        self._listening = asyncio.get_running_loop().create_future()
        self._lt = await asyncio.to_thread(self._create_session)
        self._poller = asyncio.create_task(self._poll(), name="seeder-alerts")
        try:
            self.port = await asyncio.wait_for(self._listening, 10)
            limit = self._seeding.max_entries
            for digest, torrent in reversed(await self.db.run(_stored_torrents, limit)):
                await self._seed(digest, torrent)
        except BaseException:
            await self.close()
            raise
        log.info("seeder listening endpoint=%s seeding=%d", self.endpoint, len(self._seeding))
        return self

    def _create_session(self) -> lt.session:
        host = f"[{self.host}]" if ":" in self.host else (self.host or "0.0.0.0")
        session = lt.session(
            {
                "listen_interfaces": f"{host}:{self.settings.bt_listen_port}",
                "listen_system_port_fallback": False,
                "enable_dht": False,
                "enable_lsd": False,
                "enable_upnp": False,
                "enable_natpmp": False,
                "enable_outgoing_utp": False,
                "enable_incoming_utp": False,
                "allow_multiple_connections_per_ip": True,
                # libtorrent keeps max(1, slots / 5) of the slots for optimistic unchokes,
                # so with one slot the served peer is the optimistic one: rotate it often.
                "unchoke_slots_limit": self.upload_slots,
                "optimistic_unchoke_interval": 1,
                "user_agent": "HiveMind-server",
                "alert_mask": (
                    lt.alert_category.error | lt.alert_category.status | lt.alert_category.storage
                ),
            }
        )
        # Peers on the server's LAN (and loopback) would otherwise be in libtorrent's
        # "local" class, which ignores unchoke slots: then every worker pulls everything.
        everyone = lt.ip_filter()
        mask = 1 << lt.session.global_peer_class_id
        everyone.add_rule("0.0.0.0", "255.255.255.255", mask)
        everyone.add_rule("::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", mask)
        session.set_peer_class_filter(everyone)
        return session

    async def close(self) -> None:
        if self._poller is not None:
            self._poller.cancel()
            await asyncio.gather(self._poller, return_exceptions=True)
            self._poller = None
        self._seeding.clear()
        holder = [self._lt]
        self._lt = None
        await asyncio.to_thread(holder.clear)  # libtorrent's destructor joins its threads

    @property
    def endpoint(self) -> str:
        """host:port of the BT listener; the host is empty when the server listens on every
        interface: then peers use the host they reach the server's gRPC port at."""
        host = "" if self.host in WILDCARDS else self.host
        return f"[{host}]:{self.port}" if ":" in host else f"{host}:{self.port}"

    # -- seeding ---------------------------------------------------------------------------

    async def torrent_for(self, digest: str) -> SeedInfo:
        """The artifact's torrent (made and stored on first request) and it is being seeded.
        NotFound when the server has no such artifact."""
        async with self._digest_lock(digest):
            row = await self.db.run(_artifact_torrent, digest)
            if row is None:
                raise NotFound(f"no artifact {digest}")
            torrent = row
            if not torrent:
                path = self.artifact_path(digest)
                try:
                    made = await asyncio.to_thread(make_torrent, path)
                except FileNotFoundError:
                    raise NotFound(f"artifact {digest} has no data on the server") from None
                if made.digest != digest:
                    log.error("stored artifact is corrupt digest=%s actual=%s", digest, made.digest)
                    raise FailedPrecondition(f"the server's copy of artifact {digest} is damaged")
                torrent = made.torrent
                await self.db.run(_store_torrent, digest, torrent)
            info_hash = await self._seed(digest, torrent)
            return SeedInfo(digest, torrent, info_hash)

    async def remember(self, digest: str, torrent: bytes) -> None:
        """Stores a torrent made elsewhere (a worker's result) for a stored artifact, and
        seeds it. The torrent must describe exactly the stored bytes."""
        info = parse_torrent(torrent)
        if info.name() != digest:
            raise InvalidArgument(f"the torrent is not named by artifact {digest}")
        await self.db.run(_store_torrent, digest, bytes(torrent))
        await self._seed(digest, bytes(torrent))

    def seeding_digests(self) -> list[str]:
        return sorted(self._seeding)

    @contextlib.asynccontextmanager
    async def _digest_lock(self, digest: str) -> AsyncIterator[None]:
        """One caller at a time per digest; the lock is forgotten once nobody holds or
        waits for it, so the table only holds digests being worked on."""
        lock, users = self._locks.get(digest, (asyncio.Lock(), 0))
        self._locks[digest] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[digest]
            if users <= 1:
                del self._locks[digest]
            else:
                self._locks[digest] = (lock, users - 1)

    async def _seed(self, digest: str, torrent: bytes) -> str:
        info = parse_torrent(torrent)
        if self._seeding.get(digest) is not None:
            return torrents.info_hash(info)
        path = self.artifact_path(digest)
        if not await asyncio.to_thread(path.is_file):
            log.warning("cannot seed: artifact data missing digest=%s", digest)
            return torrents.info_hash(info)
        params = _params(info, path.parent, seed=True)
        if path.name != info.name():
            params.renamed_files = {0: path.name}
        try:
            handle = await asyncio.to_thread(self._session().add_torrent, params)
        except RuntimeError as error:  # e.g. its earlier removal is still under way
            log.warning("cannot seed digest=%s: %s", digest, error)
            return torrents.info_hash(info)
        for _, evicted in self._seeding.put(digest, handle):
            if self._lt is not None and evicted.is_valid():
                self._lt.remove_torrent(evicted)  # asynchronous in libtorrent; files stay
        return torrents.info_hash(info)

    # -- pulling results -------------------------------------------------------------------

    async def pull(
        self,
        torrent: bytes,
        peers: Iterable[tuple[str, int]],
        dest_dir: Path,
        *,
        expected_sha256: str | None = None,
        stall_timeout_s: float | None = None,
        on_added: Callable[[], Awaitable[None]] | None = None,
    ) -> Path:
        """Downloads an artifact a worker seeds into `dest_dir` and returns its path once its
        SHA-256 matched. FailedPrecondition when the peers deliver nothing for the stall
        timeout, InvalidArgument when the content is not the artifact (nothing is kept).
        `on_added` runs once the torrent is in the session: from then on a worker that dials
        the BT port for this torrent is accepted (before, libtorrent drops it)."""
        info = parse_torrent(torrent)
        digest = (expected_sha256 or info.name()).lower()
        async with self._digest_lock(digest):
            if self._seeding.get(digest) is not None:
                raise AlreadyExists(f"artifact {digest} is stored on the server already")
            return await self._pull(info, digest, peers, Path(dest_dir), stall_timeout_s, on_added)

    async def _pull(
        self,
        info: lt.torrent_info,
        digest: str,
        peers: Iterable[tuple[str, int]],
        dest_dir: Path,
        stall_timeout_s: float | None,
        on_added: Callable[[], Awaitable[None]] | None = None,
    ) -> Path:
        stall_timeout_s = stall_timeout_s or self.stall_timeout_s
        await asyncio.to_thread(dest_dir.mkdir, parents=True, exist_ok=True)
        handle = await asyncio.to_thread(
            self._session().add_torrent, _params(info, dest_dir, seed=False)
        )
        path = dest_dir / info.name()
        try:
            for host, port in peers:
                handle.connect_peer((host, int(port)))
            if on_added is not None:
                await on_added()
            await self._until_complete(handle, digest, stall_timeout_s)
            await self._flush(handle, torrents.info_hash(info))
        except BaseException:
            await self._remove(handle, delete_files=True)
            await asyncio.to_thread(path.unlink, missing_ok=True)
            raise
        # The result moves into the artifact store next; it is seeded from there.
        await self._remove(handle, delete_files=False)
        actual = await asyncio.to_thread(file_sha256, path)
        if actual != digest:
            await asyncio.to_thread(path.unlink, missing_ok=True)
            raise InvalidArgument(f"the pulled file is not artifact {digest} (SHA-256 {actual})")
        return path

    async def _until_complete(
        self, handle: lt.torrent_handle, digest: str, stall_timeout_s: float
    ) -> None:
        done, last_change = -1, time.monotonic()
        while True:
            status = await asyncio.to_thread(handle.status)
            if status.errc.value():
                raise FailedPrecondition(f"pulling {digest} failed: {status.errc.message()}")
            if status.is_finished:
                return
            if status.total_wanted_done > done:
                done, last_change = status.total_wanted_done, time.monotonic()
            elif time.monotonic() - last_change >= stall_timeout_s:
                raise FailedPrecondition(
                    f"no BitTorrent progress for {stall_timeout_s:g} s pulling artifact {digest}"
                    f" ({status.num_peers} peers connected)"
                )
            await asyncio.sleep(self.poll_interval_s)

    async def _flush(self, handle: lt.torrent_handle, info_hash: str) -> None:
        """Waits until every received block is in the file: a piece can pass its hash
        check before its blocks are written."""
        future = self._flushes[info_hash] = asyncio.get_running_loop().create_future()
        handle.flush_cache()
        try:
            await asyncio.wait_for(future, 30)
        except TimeoutError:
            log.warning("disk flush unconfirmed info_hash=%s", info_hash)
        finally:
            self._flushes.pop(info_hash, None)

    async def _remove(self, handle: lt.torrent_handle, delete_files: bool) -> None:
        if self._lt is not None and handle.is_valid():
            flags = lt.options_t.delete_files if delete_files else 0
            self._lt.remove_torrent(handle, flags)
            # Let libtorrent close the file before anyone moves or deletes it.
            deadline = time.monotonic() + 10
            while handle.is_valid() and time.monotonic() < deadline:
                await asyncio.sleep(0.02)

    # -- stats and alerts ------------------------------------------------------------------

    async def stats(self) -> SeederStats:
        future: asyncio.Future[dict[str, int]] = asyncio.get_running_loop().create_future()
        self._stats.append(future)
        self._session().post_session_stats()
        values = await asyncio.wait_for(future, 10)
        return SeederStats(
            values["net.sent_payload_bytes"],
            values["net.recv_payload_bytes"],
            values["net.sent_bytes"],
            values["net.recv_bytes"],
        )

    def _session(self) -> lt.session:
        if self._lt is None:
            raise FailedPrecondition("the server's BitTorrent seeder is not running")
        return self._lt

    async def _poll(self) -> None:
        while self._lt is not None:
            for alert in self._lt.pop_alerts():
                if isinstance(alert, lt.session_stats_alert):
                    values = dict(alert.values)  # the alert dies at the next pop
                    waiters, self._stats = self._stats, []
                    for future in waiters:
                        if not future.done():
                            future.set_result(values)
                elif isinstance(alert, lt.cache_flushed_alert):
                    future = self._flushes.get(str(alert.handle.info_hashes().v1))
                    if future is not None and not future.done():
                        future.set_result(None)
                elif isinstance(alert, lt.listen_succeeded_alert | lt.listen_failed_alert):
                    self._listen_result(alert)
                elif alert.category() & lt.alert_category.error:
                    log.warning("seeder: %s", alert.message())
            await asyncio.sleep(self.poll_interval_s)

    def _listen_result(self, alert: lt.alert) -> None:
        if alert.socket_type != lt.socket_type_t.tcp or self._listening.done():
            return
        if isinstance(alert, lt.listen_succeeded_alert):
            self._listening.set_result(alert.port)
        else:
            self._listening.set_exception(
                FailedPrecondition(f"the BitTorrent seeder cannot listen: {alert.message()}")
            )


def _params(info: lt.torrent_info, save_path: Path, seed: bool) -> lt.add_torrent_params:
    params = lt.add_torrent_params()
    params.ti = info
    params.save_path = str(save_path)
    # Not auto-managed: libtorrent would otherwise keep all but a few seeds paused.
    flags = params.flags & ~(lt.torrent_flags.auto_managed | lt.torrent_flags.paused)
    params.flags = (flags | lt.torrent_flags.seed_mode) if seed else flags
    return params


def _listen_host(listen: str) -> str:
    host = listen.rpartition(":")[0] if ":" in listen else listen
    return host.strip("[]")


def _stored_torrents(conn: Connection, limit: int) -> list[tuple[str, bytes]]:
    """The `limit` newest artifacts that have a torrent, newest first."""
    rows = conn.execute(
        select(artifacts.c.digest, artifacts.c.torrent)
        .where(artifacts.c.torrent.is_not(None))
        .order_by(artifacts.c.created_at.desc())
        .limit(limit)
    )
    return [(row.digest, bytes(row.torrent)) for row in rows]


def _artifact_torrent(conn: Connection, digest: str) -> bytes | None:
    """b"" when the artifact exists without a torrent yet, None when it does not exist."""
    row = conn.execute(select(artifacts.c.torrent).where(artifacts.c.digest == digest)).first()
    if row is None:
        return None
    return bytes(row.torrent) if row.torrent else b""


def _store_torrent(conn: Connection, digest: str, torrent: bytes) -> None:
    conn.execute(update(artifacts).where(artifacts.c.digest == digest).values(torrent=torrent))
