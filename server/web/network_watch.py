"""The network's state as the dashboard and /metrics see it: read at most once per few seconds
however many browsers and scrapers ask, plus a few hours of history sampled in the background
(queue depth, tasks finished per second, nodes online) for the network page's charts.

The history lives in this process: a restarted server starts a new one (Prometheus, scraping
/metrics, keeps the long history).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from dataclasses import dataclass

from server.context import ServerContext
from server.nodes.stats import NetworkState, network_state

log = logging.getLogger("hivemind.web")

STATE_TTL_S = 5.0
HISTORY_S = 6 * 3600


@dataclass(frozen=True)
class Snapshot:
    state: NetworkState
    taken_at: float  # unix seconds
    bt_uploaded_bytes: int | None  # payload the seeder sent since start; None without one
    bt_downloaded_bytes: int | None


@dataclass(frozen=True)
class Sample:
    at: float  # unix seconds
    queue_depth: int
    tasks_per_s: float  # tasks that finished since the previous sample, per second
    nodes_online: int


class NetworkWatch:
    """`await current()` for the state (cached `ttl_s`); `run(stop)` samples the history
    every `sample_every_s` until `stop` is set."""

    def __init__(
        self,
        ctx: ServerContext,
        ttl_s: float = STATE_TTL_S,
        sample_every_s: float = 30.0,
        keep_s: float = HISTORY_S,
    ) -> None:
        self.ctx = ctx
        self.ttl_s = ttl_s
        self.sample_every_s = max(sample_every_s, 0.1)
        self.keep_s = keep_s
        self.latest: Snapshot | None = None
        self._read_at = 0.0  # monotonic
        self._lock = asyncio.Lock()
        self.history: deque[Sample] = deque(maxlen=int(keep_s / self.sample_every_s) + 2)
        self._last_finished: tuple[float, int] | None = None

    async def current(self) -> Snapshot:
        """The state, read again when older than the TTL (one read for concurrent askers)."""
        if self.latest is not None and time.monotonic() - self._read_at < self.ttl_s:
            return self.latest
        async with self._lock:
            if self.latest is not None and time.monotonic() - self._read_at < self.ttl_s:
                return self.latest
            state = await self.ctx.db.run(network_state)
            uploaded = downloaded = None
            if self.ctx.seeder is not None:
                try:
                    stats = await self.ctx.seeder.stats()
                    uploaded, downloaded = stats.uploaded_bytes, stats.downloaded_bytes
                except Exception as error:  # the seeder stopping: the rest still counts
                    log.debug("seeder stats unavailable: %s", error)
            self.latest = Snapshot(state, time.time(), uploaded, downloaded)
            self._read_at = time.monotonic()
            return self.latest

    async def sample(self) -> Sample:
        snapshot = await self.current()
        finished = snapshot.state.tasks_finished
        rate = 0.0
        if self._last_finished is not None:
            then, before = self._last_finished
            elapsed = snapshot.taken_at - then
            if elapsed > 0:
                rate = max(finished - before, 0) / elapsed
        self._last_finished = (snapshot.taken_at, finished)
        sample = Sample(
            snapshot.taken_at, snapshot.state.queue_depth, rate, snapshot.state.nodes_online
        )
        if not self.history or self.history[-1].at < sample.at:
            self.history.append(sample)
        return sample

    def recent(self, now: float | None = None) -> list[Sample]:
        cutoff = (time.time() if now is None else now) - self.keep_s
        return [sample for sample in self.history if sample.at >= cutoff]

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.sample()
            except Exception:  # a failed read must not end the history; the next one retries
                log.exception("network sample failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.sample_every_s)
