"""This machine as a node of one server: its registration, the stored node credential and the
facts it reports (hardware with the CPU benchmark score, runtimes, executor).

A node registers once; the credential (node id + secret) is kept by CredentialStore and reused
on every later start. When the server no longer accepts it (its data was wiped, the node was
removed), the machine registers again. Runs on the worker's loop; blocking calls in threads.
The benchmark score is the cached one when it was measured on this hardware; otherwise the
worker measures it (a few seconds, in a thread) after registering and reports it then.
"""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path
from typing import Any

import grpc

from app.services.benchmark import DEFAULT_DURATION_S, cached_result, node_score_async
from app.services.client import ClientError, ClientSession
from app.services.credentials import CredentialStore
from app.services.executors.base import Executor
from app.services.monitor import HardwareFacts, hardware_facts
from proto.hivemind.v1 import node_pb2

log = logging.getLogger("app.services.worker")

RUNTIMES_CHECK_S = 60.0  # how long the executor's list of runtimes is trusted


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
        self.proxies: Any = None
        self.heartbeat_interval_s = 0.0  # what the server asked for at registration; 0 = unknown
        self.hardware: HardwareFacts | None = None
        self._lock = asyncio.Lock()
        self._runtimes: tuple[float, list[str]] = (0.0, [])
        self.benchmark_file = cache_dir / "benchmark.json"
        self.benchmark_score = 0  # 0 = not measured on this hardware yet

    async def ensure(self) -> bool:
        """Makes sure this machine is a node of the server: the stored credential when the
        server still accepts it, else a fresh registration. True when it is a new node."""
        async with self._lock:
            return await self._ensure_locked()

    async def replace(self, refused_node_id: str) -> bool:
        """The server refused `refused_node_id`: forget it and register again. False when
        that already happened (two loops noticed at once)."""
        async with self._lock:
            if self.node_id != refused_node_id:
                return False
            await asyncio.to_thread(self.credentials.clear_node, self.session.server)
            await self._ensure_locked()
            return True

    async def _ensure_locked(self) -> bool:
        if self.hardware is None:
            self.hardware = await asyncio.to_thread(hardware_facts, self.cache_dir)
        if not self.benchmark_score:
            cached = await asyncio.to_thread(cached_result, self.benchmark_file)
            self.benchmark_score = cached.score if cached is not None else 0
        server = self.session.server
        hardware = self.hardware_message()
        runtimes = await self.runtimes(force=True)
        executors = [self.executor.name]
        stored = await asyncio.to_thread(self.credentials.load_node, server)
        if stored is not None:
            proxies = self.session.as_node(stored.node_id, stored.secret)
            update = node_pb2.UpdateNodeRequest(
                hardware=hardware, runtimes=runtimes, executors=executors
            )
            try:
                await proxies.nodes.UpdateNode(update)
                self._use(stored.node_id, proxies, "reusing its stored credential")
                return False
            except ClientError as exc:
                if exc.code not in (grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.NOT_FOUND):
                    raise
                log.info("stored node credential refused (%s); registering again", exc.message)
                await asyncio.to_thread(self.credentials.clear_node, server)
        request = node_pb2.RegisterNodeRequest(
            name=self.name or self.hardware.hostname,
            hardware=hardware,
            runtimes=runtimes,
            executors=executors,
        )
        reply = await self.session.nodes.RegisterNode(request)
        await asyncio.to_thread(
            self.credentials.save_node, server, reply.node_id, reply.node_secret
        )
        if reply.heartbeat_interval_s > 0:
            self.heartbeat_interval_s = float(reply.heartbeat_interval_s)
        proxies = self.session.as_node(reply.node_id, reply.node_secret)
        self._use(reply.node_id, proxies, "registered")
        return True

    def _use(self, node_id: str, proxies: Any, how: str) -> None:
        self.node_id, self.proxies = node_id, proxies
        log.info("node=%s %s server=%s", node_id, how, self.session.server)

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
        request = node_pb2.UpdateNodeRequest(
            hardware=self.hardware_message(),
            runtimes=await self.runtimes(force=True),
            executors=[self.executor.name],
        )
        await self.proxies.nodes.UpdateNode(request)
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
