"""Replicas of one server find each other and keep the same artifacts.

Several replicas share one database and Redis, each with its own data dir (docs/ADMIN.md,
"Scale-out"). Each registers itself in Redis every few seconds (`<namespace>:replicas`: its
id -> where its gRPC port and its BitTorrent seeder are reachable); an entry not refreshed
for REPLICA_TTL_S is ignored, and a Redis restart is repaired by the next refresh.

Artifacts are content-addressed, so any replica's copy is as good as another's. A replica
that stores a new artifact announces it (`<namespace>:artifacts`) and the others fetch it
in the background, so each holds every artifact soon after it arrives and a replica that
dies takes nothing with it. A replica asked for an artifact it lacks (not replicated yet, or
stored while it was away) fetches it on the spot (ArtifactStore.ensure_local). Fetching is
ArtifactService.Download on the other replica with a `Replica` token, signed with a key
derived from the token.key the replicas share (server/rpc/auth.py), verified against the
digest as it arrives. Each replica seeds what it holds over BitTorrent, so a worker's
GetTorrent lists every replica's seeder.

After a Redis gap, announcements may have been lost: a replica then fetches what was stored
since the gap began.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import random
import socket
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import grpc
from sqlalchemy import Connection, select

from proto.hivemind.v1 import artifact_pb2, artifact_pb2_grpc
from server.accounts.signing import SigningKeys
from server.config import ServerSettings
from server.ids import new_id
from server.rpc.auth import replica_signer
from server.store.db import Database
from server.store.redis_link import Gap, RedisLink, RedisUnavailable
from server.store.schema import artifacts as artifacts_table

if TYPE_CHECKING:
    from server.jobs.artifacts import ArtifactStore
    from server.torrent.seeder import Seeder

log = logging.getLogger("hivemind.replicas")

REFRESH_S = 3.0
REPLICA_TTL_S = 12.0
FETCH_TIMEOUT_S = 600.0
CATCH_UP_MARGIN_S = 60.0
MAX_QUEUED = 100_000
WILDCARD_HOSTS = ("", "0.0.0.0", "::", "[::]")


def replica_address(settings: ServerSettings, port: int) -> str:
    """Where other replicas reach this one's gRPC port: `replica_address`, else the listen
    address (this machine's host name for a wildcard)."""
    if settings.replica_address:
        return settings.replica_address
    host = settings.listen.rpartition(":")[0]
    if host in WILDCARD_HOSTS:
        host = socket.gethostname()
    return f"{host}:{port}"


def _created_since(conn: Connection, since: float) -> list[str]:
    return list(
        conn.execute(
            select(artifacts_table.c.digest)
            .where(artifacts_table.c.created_at >= since)
            .order_by(artifacts_table.c.created_at)
            .limit(MAX_QUEUED)
        ).scalars()
    )


class ReplicaMesh:
    """This replica among the others: the registry, fetching, and background replication.
    Implements ArtifactPeers (server/jobs/artifacts.py)."""

    def __init__(
        self,
        settings: ServerSettings,
        link: RedisLink,
        keys: SigningKeys,
        db: Database,
        replica_id: str = "",
    ) -> None:
        self.settings = settings
        self.link = link
        self.db = db
        self.replica_id = replica_id or link.replica_id or new_id("replica")
        self._signer = replica_signer(keys)
        self._token = ("", 0.0)
        self._peers: dict[str, dict[str, Any]] = {}
        self._channels: dict[str, grpc.aio.Channel] = {}
        self._queue: asyncio.Queue[str] = asyncio.Queue(MAX_QUEUED)
        self._artifacts: ArtifactStore | None = None
        self._seeder: Seeder | None = None
        self._me: dict[str, Any] = {}
        self._tasks: list[asyncio.Task[None]] = []
        link.subscribe("artifacts", self._announced)
        link.on_gap(self._gap)

    # -- life cycle ------------------------------------------------------------------------

    async def start(self, artifacts: ArtifactStore, seeder: Seeder | None, grpc_port: int) -> None:
        """Registers this replica and starts replicating into `artifacts`."""
        self._artifacts, self._seeder = artifacts, seeder
        self._me = {"grpc": replica_address(self.settings, grpc_port)}
        if seeder is not None:
            self._me["bt"] = self._seeder_endpoint(seeder)
        await self._refresh()
        self._tasks = [
            asyncio.create_task(self._keep_registered(), name="replica-registry"),
            asyncio.create_task(self._replicate(), name="replica-copies"),
        ]
        log.info("replica registered id=%s grpc=%s", self.replica_id, self._me["grpc"])

    def _seeder_endpoint(self, seeder: Seeder) -> str:
        endpoint = seeder.endpoint
        host, _, port = endpoint.rpartition(":")
        if host.strip("[]"):
            return endpoint
        host = self.settings.bt_public_host or self._me["grpc"].rpartition(":")[0]
        return f"{host}:{port}"

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        with contextlib.suppress(RedisUnavailable):
            await self.link.call(lambda r: r.hdel(self.link.key("replicas"), self.replica_id))
        for channel in self._channels.values():
            with contextlib.suppress(Exception):
                await channel.close(grace=None)
        self._channels.clear()

    # -- the registry ----------------------------------------------------------------------

    async def _keep_registered(self) -> None:
        while True:
            await asyncio.sleep(REFRESH_S)
            await self._refresh()

    async def _refresh(self) -> None:
        key = self.link.key("replicas")
        entry = json.dumps({**self._me, "at": time.time()})
        try:

            async def exchange(r: Any) -> list[Any]:
                pipe = r.pipeline(transaction=False)
                pipe.hset(key, self.replica_id, entry)
                pipe.hgetall(key)
                return await pipe.execute()

            found = (await self.link.call(exchange))[1]
        except RedisUnavailable:
            return  # keep what we knew; it ages out below
        peers, stale = {}, []
        fresh_after = time.time() - REPLICA_TTL_S
        for replica_id, text in found.items():
            try:
                info = json.loads(text)
            except ValueError:
                continue
            if replica_id == self.replica_id:
                continue
            if float(info.get("at", 0)) < fresh_after:
                stale.append(replica_id)
            else:
                peers[replica_id] = info
        self._peers = peers
        if stale and len(stale) < len(found):
            with contextlib.suppress(RedisUnavailable):
                await self.link.call(lambda r: r.hdel(key, *stale))

    def peer_addresses(self) -> list[str]:
        fresh_after = time.time() - REPLICA_TTL_S
        return [
            info["grpc"]
            for info in self._peers.values()
            if info.get("grpc") and float(info.get("at", 0)) >= fresh_after
        ]

    def seeder_endpoints(self) -> list[str]:
        """The BitTorrent seeders of the other live replicas."""
        fresh_after = time.time() - REPLICA_TTL_S
        return [
            info["bt"]
            for info in self._peers.values()
            if info.get("bt") and float(info.get("at", 0)) >= fresh_after
        ]

    # -- ArtifactPeers ---------------------------------------------------------------------

    def stored(self, digest: str) -> None:
        self.link.publish("artifacts", {"d": digest})

    def torrent_made(self, digest: str) -> None:
        """A torrent was made (or learnt) for a stored artifact: the others seed it too."""
        self.link.publish("artifacts", {"d": digest, "t": 1})

    async def fetch(self, digest: str, dest: Path) -> bool:
        tried: set[str] = set()
        for look in range(2):
            if look:  # none had it: a replica that just (re)started may not be known yet
                await self._refresh()
            addresses = [a for a in self.peer_addresses() if a not in tried]
            random.shuffle(addresses)
            for address in addresses:
                tried.add(address)
                if await self._try_fetch(address, digest, dest):
                    return True
        return False

    async def _try_fetch(self, address: str, digest: str, dest: Path) -> bool:
        try:
            return await self._fetch_from(address, digest, dest)
        except grpc.aio.AioRpcError as error:
            if error.code() != grpc.StatusCode.NOT_FOUND:
                log.info(
                    "replica fetch failed digest=%s from=%s status=%s",
                    digest,
                    address,
                    error.code().name,
                )
        except (OSError, TimeoutError) as error:
            log.info("replica fetch failed digest=%s from=%s: %s", digest, address, error)
        return False

    async def _fetch_from(self, address: str, digest: str, dest: Path) -> bool:
        stub = artifact_pb2_grpc.ArtifactServiceStub(await self._channel(address))
        metadata = (("authorization", f"Replica {self._replica_token()}"),)
        sha = hashlib.sha256()
        call = stub.Download(
            artifact_pb2.DownloadRequest(digest=digest), metadata=metadata, timeout=FETCH_TIMEOUT_S
        )
        handle = await asyncio.to_thread(dest.open, "wb")
        try:
            async for chunk in call:
                sha.update(chunk.data)
                await asyncio.to_thread(handle.write, chunk.data)
        finally:
            await asyncio.to_thread(handle.close)
        if sha.hexdigest() != digest:
            log.warning("replica sent wrong bytes digest=%s from=%s", digest, address)
            return False
        return True

    def _replica_token(self) -> str:
        token, expires_at = self._token
        if not token or expires_at - 60 < time.time():
            token, expires = self._signer.sign({"sub": self.replica_id})
            self._token = (token, float(expires))
        return token

    async def _channel(self, address: str) -> grpc.aio.Channel:
        channel = self._channels.get(address)
        if channel is None:
            options = [
                ("grpc.max_receive_message_length", 16 * 1024 * 1024),
                # A replica that restarts is reachable again within a second or two, not
                # after grpc's default backoff of up to two minutes.
                ("grpc.initial_reconnect_backoff_ms", 250),
                ("grpc.max_reconnect_backoff_ms", 2000),
            ]
            if self.settings.tls_cert_file:
                roots = None
                if self.settings.replica_ca_file:
                    roots = await asyncio.to_thread(Path(self.settings.replica_ca_file).read_bytes)
                credentials = grpc.ssl_channel_credentials(root_certificates=roots)
                channel = grpc.aio.secure_channel(address, credentials, options=options)
            else:
                channel = grpc.aio.insecure_channel(address, options=options)
            self._channels[address] = channel
        return channel

    # -- background replication -------------------------------------------------------------

    def _announced(self, message: dict[str, Any]) -> None:
        digest = message.get("d")
        if isinstance(digest, str) and len(digest) == 64:
            with contextlib.suppress(asyncio.QueueFull):
                self._queue.put_nowait(digest)

    async def _gap(self, gap: Gap) -> None:
        # Announcements sent meanwhile were lost: look at what was stored since.
        try:
            missed = await self.db.run(_created_since, gap.since - CATCH_UP_MARGIN_S)
        except Exception:
            log.exception("cannot list artifacts to catch up on")
            return
        for digest in missed:
            with contextlib.suppress(asyncio.QueueFull):
                self._queue.put_nowait(digest)

    async def _replicate(self) -> None:
        while True:
            digest = await self._queue.get()
            artifacts = self._artifacts
            if artifacts is None:
                continue
            try:
                path = await artifacts.ensure_local(digest)
                if self._seeder is not None and await asyncio.to_thread(path.is_file):
                    await self._seeder.seed_known(digest)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("replicating artifact failed digest=%s", digest)
