"""The worker's heartbeats: usage out; renewed leases and cancellations in.

Every attempt the worker holds (preparing, running, or waiting to report) is listed, so its
lease is renewed; an attempt the server lists in `cancel_attempt_ids` is stopped at once.
While attempts are held the beat is paced by the lease (a third of its lifetime), whatever the
server's interval, so a lease never lapses between beats.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

import grpc

from app.services.aio import wait_event
from app.services.client.session import ClientError
from app.services.worker import events as ev
from app.services.worker.held import HeldAttempt
from app.services.worker.node import NodeRegistration
from proto.hivemind.v1 import node_pb2

if TYPE_CHECKING:
    from app.services.torrent.fetch import TorrentFetcher

log = logging.getLogger("app.services.worker.agent")

DEFAULT_INTERVAL_S = 10.0
DEFAULT_LEASE_TTL_S = 60.0
RETRY_INTERVAL_S = 2.0  # after a failed beat: try again soon, the leases depend on it
MAX_REPORTED_SEEDS = 1000  # the server takes at most 10,000; the freshest few matter


class Heartbeats:
    def __init__(
        self,
        registration: NodeRegistration,
        held: dict[str, HeldAttempt],
        events: ev.WorkerEvents,
        *,
        usage: Callable[[], node_pb2.Usage],
        paused_reason: Callable[[], str],
        on_unknown_node: Callable[[ClientError], Awaitable[None]],
        on_refused_node: Callable[[ClientError], None],
        torrents: TorrentFetcher | None = None,
    ) -> None:
        self.registration = registration
        self.held = held  # the agent's live dict of attempts
        self.events = events
        self.usage = usage
        self.paused_reason = paused_reason
        self.on_unknown_node = on_unknown_node
        self.on_refused_node = on_refused_node
        self.torrents = torrents  # what this node seeds is reported with each beat
        self.interval_s = DEFAULT_INTERVAL_S
        self.lease_ttl_s = DEFAULT_LEASE_TTL_S
        self._now = asyncio.Event()

    def poke(self) -> None:
        """Beat now (a new lease, a pause): the server learns of it without waiting."""
        self._now.set()

    def note_deadline(self, deadline: int) -> None:
        """Learns the lease lifetime from a deadline the server gave (unix seconds)."""
        if deadline > 0:
            self.lease_ttl_s = max(1.0, min(self.lease_ttl_s, deadline - time.time()))

    async def run(self) -> None:
        """Beats until cancelled; errors are logged and retried, never raised."""
        failures = 0
        while True:
            try:
                await self.beat()
                if failures:
                    log.info("heartbeats back after %d failures node=%s", failures, self._node)
                    self.events.emit(ev.RECOVERED)
                failures = 0
            except ClientError as exc:
                failures += 1
                if exc.code == grpc.StatusCode.UNAUTHENTICATED:
                    await self.on_unknown_node(exc)
                elif exc.code == grpc.StatusCode.PERMISSION_DENIED:
                    self.on_refused_node(exc)
                elif failures == 1 or failures % 10 == 0:
                    log.warning("heartbeat failed node=%s (%s)", self._node, exc.message)
                    self.events.emit(
                        ev.ERROR,
                        message=f"heartbeat failed: {exc.message}",
                        status=exc.code.name,
                        reason=exc.reason,
                    )
            except Exception as exc:  # our bug: keep beating, the leases depend on it
                failures += 1
                log.exception("heartbeat error node=%s", self._node)
                self.events.emit(ev.ERROR, message=f"heartbeat error: {exc}")
            self._now.clear()
            await wait_event(self._now, self._next_in(failures))

    @property
    def _node(self) -> str:
        return self.registration.node_id

    def _next_in(self, failures: int) -> float:
        interval = self.interval_s
        if self.held:
            interval = min(interval, max(1.0, self.lease_ttl_s / 3))
        if failures:
            interval = min(interval, RETRY_INTERVAL_S)
        return interval

    async def beat(self) -> None:
        """One heartbeat."""
        reason = self.paused_reason()
        request = node_pb2.HeartbeatRequest(
            usage=self.usage(),
            running_attempt_ids=sorted(self.held),
            paused=bool(reason),
            pause_reason=reason,
        )
        torrents = self.torrents
        if torrents is not None:
            request.seeding_digests.extend(torrents.seeding_digests()[:MAX_REPORTED_SEEDS])
            request.bt_endpoint = torrents.bt_endpoint
        reply = await self.registration.proxies.nodes.Heartbeat(request)
        if reply.heartbeat_interval_s > 0:
            self.interval_s = float(reply.heartbeat_interval_s)
        self.note_deadline(reply.lease_deadline)
        for attempt_id in reply.cancel_attempt_ids:
            held = self.held.get(attempt_id)
            if held is not None and not held.cancel.is_set():
                log.info("%s cancel requested by the server", held.tag)
                held.cancel_reason = "server"
                held.cancel.set()
