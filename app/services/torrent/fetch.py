"""Fetching artifacts from a HiveMind server's swarm, for the worker and the CLI.

`TorrentFetcher.fetch` asks the server for the artifact's torrent and peers (GetTorrent),
gets it into the cache over BitTorrent and places it where the caller wants it. It returns
None when BitTorrent cannot deliver (off on the server, unreachable peers, a stalled swarm,
a bad file): the caller then downloads over the gRPC stream, and the log says why.

    fetcher = await TorrentFetcher.open(settings_store, server="10.0.0.1:50051")
    path = await fetcher.fetch(session.artifacts, digest, dest) or await download_artifact(...)
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from app.services.client.transfer import download_artifact
from app.services.settings import SettingsStore
from app.services.torrent.addressing import Peer
from app.services.torrent.cache import MB, ArtifactCache, CacheFull
from app.services.torrent.config import TorrentSessionSettings
from app.services.torrent.errors import TorrentError
from app.services.torrent.offer import RESULT_MIN_BYTES, offer_result
from app.services.torrent.session import TorrentSession
from app.services.torrent.transfer import ProgressCallback
from common.network import split_host_port
from proto.hivemind.v1 import artifact_pb2

log = logging.getLogger("hivemind.torrent")

WILDCARD_HOSTS = ("", "0.0.0.0", "::")


class TorrentFetcher:
    def __init__(
        self,
        session: TorrentSession,
        cache: ArtifactCache,
        server_host: str | Callable[[], str],
        *,
        advertised_host: str = "",
    ) -> None:
        self.session = session
        self.cache = cache
        # Where peers listed without a host are: the server's host (the one the client talks
        # to now, when it may fail over between replicas).
        self._server_host = server_host
        # The host other nodes reach this one at; empty = let the server fill it in.
        self.advertised_host = advertised_host
        self.result_min_bytes = RESULT_MIN_BYTES  # smaller results are uploaded over gRPC
        self._unfollow: list[Any] = []

    @classmethod
    async def open(
        cls,
        store: SettingsStore,
        server: str | Callable[[], str],
        *,
        area: str = "",
        **session_overrides: Any,
    ) -> TorrentFetcher:
        """A session and cache from the contributor's settings (rate limits and cache size
        follow the settings live); resume data and the cache live under the cache dir.
        `area` keeps them apart from the worker's (the CLI may run beside a worker)."""
        contributor = store.settings.contributor
        suffix = f"-{area}" if area else ""
        settings = TorrentSessionSettings.from_contributor(
            contributor, store.cache_dir / f"torrent-state{suffix}", **session_overrides
        )
        session = await TorrentSession(settings).start()
        try:
            cache = ArtifactCache(
                store.cache_dir / f"swarm{suffix}", contributor.cache_max_mb * MB, session
            )
            await cache.open()
        except BaseException:
            await session.close()
            raise
        host = (lambda: _host_of(server())) if callable(server) else _host_of(server)
        advertised = (
            "" if settings.listen_interface in WILDCARD_HOSTS else settings.listen_interface
        )
        fetcher = cls(session, cache, host, advertised_host=advertised)
        fetcher._unfollow = [session.follow(store), cache.follow(store)]
        return fetcher

    @property
    def server_host(self) -> str:
        host = self._server_host
        return host() if callable(host) else host

    async def close(self) -> None:
        for unfollow in self._unfollow:
            unfollow()
        await self.cache.close()
        await self.session.close()

    @property
    def bt_endpoint(self) -> str:
        """host:port for heartbeats (the host may be empty: see advertised_host)."""
        return f"{self.advertised_host}:{self.session.listen_port}"

    def seeding_digests(self) -> list[str]:
        return self.session.seeding_digests()

    async def fetch(
        self,
        artifacts: Any,
        digest: str,
        dest: Path,
        progress: ProgressCallback | None = None,
    ) -> Path | None:
        """The artifact at `dest` over BitTorrent, or None (then fetch it over gRPC).
        `artifacts` is the ArtifactService proxy of a ClientSession."""
        cached = self.cache.path(digest)
        if cached is None:
            try:
                offer = await artifacts.GetTorrent(artifact_pb2.GetTorrentRequest(digest=digest))
            except Exception as exc:  # ClientError: off, not found, unreachable...
                log.info("bittorrent not offered digest=%s (%s); using gRPC", digest, exc)
                return None
            # Other nodes first; the server only for what they cannot deliver.
            nodes = [self.resolve(p.endpoint) for p in offer.peers if p.node_id]
            server = [self.resolve(p.endpoint) for p in offer.peers if not p.node_id]
            log.info("fetching by bittorrent digest=%s node_peers=%d", digest, len(nodes))
            cached = await self.from_swarm(digest, offer.torrent, nodes, progress, server)
            if cached is None:
                return None
        await asyncio.to_thread(_link_or_copy, cached, Path(dest))
        return Path(dest)

    async def from_swarm(
        self,
        digest: str,
        torrent: bytes,
        peers: list[Peer],
        progress: ProgressCallback | None = None,
        reserve_peers: list[Peer] | None = None,
    ) -> Path | None:
        """The cached artifact fetched from `peers` (and `reserve_peers` when those deliver
        nothing for a moment), or None (logged) when the swarm fails."""
        try:
            return await self.cache.fetch(
                digest, torrent, peers, progress, reserve_peers=reserve_peers or ()
            )
        except (TorrentError, CacheFull) as exc:
            log.warning("bittorrent fetch failed digest=%s: %s; falling back to gRPC", digest, exc)
            return None

    async def offer_result(
        self, artifacts: Any, path: Path, name: str = ""
    ) -> artifact_pb2.ArtifactInfo | None:
        """The result at `path` stored on the server over BitTorrent, or None: then upload
        it over gRPC (app/services/torrent/offer.py says when)."""
        return await offer_result(self, artifacts, path, name)

    def resolve(self, endpoint: str) -> tuple[str, int]:
        """A peer's (host, port); a peer without a host is on the server's host."""
        host, port = split_host_port(endpoint)
        return (self.server_host if host in WILDCARD_HOSTS else host), int(port)


def _link_or_copy(source: Path, dest: Path) -> None:
    if dest.exists() and dest.stat().st_size == source.stat().st_size:
        return
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(dest.name + ".bt")
    tmp.unlink(missing_ok=True)
    try:
        os.link(source, tmp)  # no second copy of a large artifact
    except OSError:
        shutil.copyfile(source, tmp)
    os.replace(tmp, dest)


def _host_of(address: str) -> str:
    return split_host_port(address)[0] or address


async def open_torrents(
    store: SettingsStore,
    server: str | Callable[[], str],
    *,
    enabled: bool = True,
    area: str = "",
    **session_overrides: Any,
) -> TorrentFetcher | None:
    """The worker's fetcher, or None when the settings (or `enabled=False`, a command-line
    switch) turn BitTorrent off or it cannot start (a busy port...): then everything
    travels over gRPC, as the log says."""
    if not enabled or not store.settings.bittorrent:
        log.info("bittorrent off: artifacts and results travel over gRPC")
        return None
    try:
        return await TorrentFetcher.open(store, server, area=area, **session_overrides)
    except Exception as exc:
        log.warning("bittorrent unavailable, using gRPC only: %s", exc)
        return None


async def fetch_or_download(
    torrents: TorrentFetcher | None,
    artifacts: Any,
    digest: str,
    dest: Path,
    progress: ProgressCallback | None = None,
) -> Path:
    """The artifact at `dest`, verified: over BitTorrent when `torrents` is given and the
    swarm delivers, else over the gRPC stream (the same path as the worker's)."""
    if torrents is not None:
        fetched = await torrents.fetch(artifacts, digest, Path(dest), progress)
        if fetched is not None:
            return fetched
    return await download_artifact(artifacts, digest, Path(dest), progress=progress)
