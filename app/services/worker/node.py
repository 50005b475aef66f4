"""This machine as a node of one server: its registration, the stored node credential and the
facts it reports (hardware with the CPU benchmark score, runtimes, executor).

A node registers once; the credential (node id + secret) is kept by CredentialStore and reused
on every later start. At start, a stored credential the server refuses is recovered as a
running worker recovers it (the owner's login rotates the secret, keeping the node); only a
node the server no longer knows (its data was wiped, the node was removed) or that belongs to
someone else makes the machine register again. The secret is replaced from time to time
(`rotate_secret`, scheduled by `secret`); a credential refused while the worker runs is
recovered by `recover`, keeping the node whenever the owner's login allows it.
Runs on the worker's loop; blocking calls in threads.
The benchmark score is the cached one when it was measured on this hardware; otherwise the
worker measures it (a few seconds, in a thread) after registering and reports it then.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import grpc

from app.services.aio import wait_event
from app.services.client.credentials import CredentialStore
from app.services.client.session import ClientError, ClientSession
from app.services.executors.base import Executor
from app.services.monitor import HardwareFacts, hardware_facts
from app.services.worker.benchmark import DEFAULT_DURATION_S, cached_result, node_score_async
from app.services.worker.report import RETRYABLE
from proto.hivemind.v1 import node_pb2

log = logging.getLogger("app.services.worker.agent")

RUNTIMES_CHECK_S = 60.0  # how long the executor's list of runtimes is trusted
# Why the owner's login may fail to rotate a refused secret: then the machine registers again.
OWNER_CANNOT_ROTATE = {
    grpc.StatusCode.UNAUTHENTICATED,  # not logged in, or the login ended
    grpc.StatusCode.NOT_FOUND,  # the node is gone, or belongs to someone else
    grpc.StatusCode.PERMISSION_DENIED,
    grpc.StatusCode.FAILED_PRECONDITION,  # banned
}


class NodeRegistration:
    """The node this worker acts as. `proxies` authenticate as it ("Node <id>.<secret>")."""

    def __init__(
        self,
        session: ClientSession,
        credentials: CredentialStore,
        executor: Executor,
        cache_dir: Path,
        name: str = "",
    ) -> None:
        self.session = session
        self.credentials = credentials
        self.executor = executor
        self.cache_dir = cache_dir
        self.name = name
        self.node_id = ""
        self.secret = ""  # the node secret in use; never logged
        self.proxies: Any = None
        self.heartbeat_interval_s = 0.0  # what the server asked for at registration; 0 = unknown
        self.hardware: HardwareFacts | None = None
        self._lock = asyncio.Lock()
        self._runtimes: tuple[float, list[str]] = (0.0, [])
        self.benchmark_file = cache_dir / "benchmark.json"
        self.benchmark_score = 0  # 0 = not measured on this hardware yet
        self.new_node = False  # the last registration made this machine a new node

    async def ensure(self) -> bool:
        """Makes sure this machine is a node of the server: the stored credential when the
        server still accepts it, else a fresh registration. True when it is a new node."""
        async with self._lock:
            return await self._ensure_locked()

    async def ensure_with_retries(self, stopping: asyncio.Event) -> bool:
        """`ensure()`, retried while the server is unreachable; False when `stopping` was set
        first. Raises ClientError when registration is refused (not logged in, banned)."""
        delay = 0.5
        while not stopping.is_set():
            try:
                await self.ensure()
                return True
            except ClientError as exc:
                if exc.code not in RETRYABLE:
                    raise
                log.warning("cannot register yet (%s); retrying in %.0fs", exc.message, delay)
                await wait_event(stopping, delay)
                delay = min(delay * 2, 15.0)
        return False

    async def replace(self, refused_node_id: str) -> bool:
        """The server refused `refused_node_id`: forget it and register again. False when
        that already happened (two loops noticed at once)."""
        async with self._lock:
            if self.node_id != refused_node_id:
                return False
            await self._replace_locked()
            return True

    async def _replace_locked(self) -> None:
        await asyncio.to_thread(self.credentials.clear_node, self.session.server)
        await self._ensure_locked()

    # -- the secret -------------------------------------------------------------------------

    async def secret_age_s(self) -> float | None:
        """How long ago the stored secret of this node was saved; None when the store holds
        no credential of this node (nothing to rotate)."""
        stored = await asyncio.to_thread(self.credentials.load_node, self.session.server)
        if stored is None or not self.node_id or stored.node_id != self.node_id:
            return None
        return max(0.0, time.time() - stored.saved_at)

    async def rotate_secret(self) -> None:
        """Replaces this node's secret with the node credential, stores the new one and acts
        with it from now on. ClientError UNAUTHENTICATED means the secret in use is already
        refused (a lost reply of an earlier rotation, someone else rotated it): `recover`."""
        async with self._lock:
            node_id = self.node_id
            secret = await self.session.rotate_node_secret(node_id, self.secret)
            await self._store(node_id, secret)
            self._use(node_id, secret, "rotated its secret")

    async def recover(self, refused_node_id: str, before_new_node: Callable[[], None]) -> bool:
        """The server refused the credential of `refused_node_id` while the worker ran. Finds
        one that works, keeping the node (its leases, kept reports and trust) if it can:
        1. the credential in use works after all (another loop or a rotation fixed it);
        2. another process sharing this home rotated it (`hivemind worker rotate-secret`):
           the stored secret;
        3. the owner's login rotates it (a lost reply of a rotation, or someone else rotated
           it: the owner takes the node back);
        4. else this machine registers again as a new node; `before_new_node` runs first.
        Returns True when this machine became a new node. Raises ClientError when the server
        cannot be asked now (the caller's loop retries)."""
        async with self._lock:
            if self.node_id != refused_node_id:
                return False  # another loop registered a new node already
            if await self._accepted(self.node_id, self.secret):
                return False
            if await self._adopt_stored() or await self._rotate_as_owner(self.node_id):
                return False
            log.warning("node=%s cannot be recovered; registering again", refused_node_id)
            before_new_node()
            await self._replace_locked()
            return True

    async def _accepted(self, node_id: str, secret: str) -> bool:
        """Whether the server accepts this credential now (asked with UpdateNode, which only
        refreshes the node's facts)."""
        try:
            await self.session.as_node(node_id, secret).nodes.UpdateNode(await self._facts())
        except ClientError as exc:
            if exc.code in (grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.NOT_FOUND):
                return False
            raise
        return True

    async def _adopt_stored(self) -> bool:
        stored = await asyncio.to_thread(self.credentials.load_node, self.session.server)
        if stored is None or stored.node_id != self.node_id or stored.secret == self.secret:
            return False
        if not await self._accepted(stored.node_id, stored.secret):
            return False
        self._use(stored.node_id, stored.secret, "uses the secret another process stored")
        return True

    async def _rotate_as_owner(self, node_id: str) -> bool:
        try:
            secret = await self.session.rotate_node_secret_as_owner(node_id)
        except ClientError as exc:
            if exc.code not in OWNER_CANNOT_ROTATE:
                raise
            log.warning("node=%s the owner's login cannot rotate it: %s", node_id, exc.message)
            return False
        await self._store(node_id, secret)
        self._use(node_id, secret, "secret was refused; rotated it with the owner's login")
        return True

    async def _store(self, node_id: str, secret: str) -> None:
        """Makes sure this registration's store holds the credential (the session stores it
        in its own store, which is normally the same one)."""
        server = self.session.server
        stored = await asyncio.to_thread(self.credentials.load_node, server)
        if stored is None or (stored.node_id, stored.secret) != (node_id, secret):
            await asyncio.to_thread(self.credentials.save_node, server, node_id, secret)

    async def _ensure_locked(self) -> bool:
        self.new_node = False
        if self.hardware is None:
            self.hardware = await asyncio.to_thread(hardware_facts, self.cache_dir)
        if not self.benchmark_score:
            cached = await asyncio.to_thread(cached_result, self.benchmark_file)
            self.benchmark_score = cached.score if cached is not None else 0
        server = self.session.server
        update = await self._facts()
        stored = await asyncio.to_thread(self.credentials.load_node, server)
        if stored is not None:
            proxies = self.session.as_node(stored.node_id, stored.secret)
            try:
                await proxies.nodes.UpdateNode(update)
                self._use(stored.node_id, stored.secret, "reusing its stored credential")
                return False
            except ClientError as exc:
                if exc.code not in (grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.NOT_FOUND):
                    raise
                log.info("node=%s stored credential refused (%s)", stored.node_id, exc.message)
            # A rotation whose reply was lost before a restart (or someone else rotated the
            # secret): as `recover` does for a running worker, the owner's login takes the node
            # back with its trust and earnings. Only a node it cannot take back (gone from the
            # server, another user's) makes this machine a new node. The stale credential is
            # kept until a registration replaces it: a start without a login fails, and the
            # next start after logging in still recovers the node.
            if await self._rotate_as_owner(stored.node_id):
                await self.proxies.nodes.UpdateNode(update)
                return False
            log.info("node=%s cannot be recovered; registering again", stored.node_id)
        request = node_pb2.RegisterNodeRequest(
            name=self.name or self.hardware.hostname,
            hardware=update.hardware,
            runtimes=update.runtimes,
            executors=update.executors,
        )
        reply = await self.session.nodes.RegisterNode(request)
        await asyncio.to_thread(
            self.credentials.save_node, server, reply.node_id, reply.node_secret
        )
        if reply.heartbeat_interval_s > 0:
            self.heartbeat_interval_s = float(reply.heartbeat_interval_s)
        self._use(reply.node_id, reply.node_secret, "registered")
        self.new_node = True
        return True

    def _use(self, node_id: str, secret: str, how: str) -> None:
        self.node_id, self.secret = node_id, secret
        self.proxies = self.session.as_node(node_id, secret)
        log.info("node=%s %s server=%s", node_id, how, self.session.server)

    async def _facts(self) -> node_pb2.UpdateNodeRequest:
        return node_pb2.UpdateNodeRequest(
            hardware=self.hardware_message(),
            runtimes=await self.runtimes(force=True),
            executors=[self.executor.name],
        )

    def hardware_message(self) -> node_pb2.Hardware:
        hw = self.hardware
        if hw is None:
            return node_pb2.Hardware()
        return node_pb2.Hardware(
            cores=hw.cores,
            memory_mb=hw.memory_mb,
            disk_mb=hw.disk_mb,
            gpus=hw.gpus,
            os=hw.os,
            arch=hw.arch,
            cpu_model=hw.cpu_model,
            benchmark_score=float(self.benchmark_score),
            hostname=hw.hostname,
        )

    async def measure_benchmark(self, duration_s: float = DEFAULT_DURATION_S) -> int:
        """Runs the CPU benchmark in a thread (the cached score when the hardware is the same)
        and reports a changed score to the server. Returns the score."""
        result = await node_score_async(self.benchmark_file, duration_s=duration_s)
        if result.score != self.benchmark_score:
            self.benchmark_score = result.score
            await self.report_facts()
        return self.benchmark_score

    async def report_facts(self) -> None:
        """Sends the node's current facts (hardware, score, runtimes) with UpdateNode."""
        if self.proxies is None:
            return
        await self.proxies.nodes.UpdateNode(await self._facts())
        log.info("node=%s facts updated score=%s", self.node_id, self.benchmark_score)

    def forget_runtimes(self) -> None:
        """The executor's runtimes changed (one was loaded): ask it again next time."""
        self._runtimes = (0.0, [])

    async def runtimes(self, force: bool = False) -> list[str]:
        """Runtimes the executor can run now. It may ask dockerd (blocking): off the loop,
        and not on every lease round."""
        checked_at, runtimes = self._runtimes
        if force or time.monotonic() - checked_at > RUNTIMES_CHECK_S:
            runtimes = await asyncio.to_thread(self.executor.runtimes)
            self._runtimes = (time.monotonic(), runtimes)
        return runtimes
