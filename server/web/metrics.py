"""`/metrics` for Prometheus, `/healthz` and `/readyz` for probes.

/metrics serves the process-wide counters of server/metrics.py (RPCs, leases, reports,
database retries), the process's own (CPU, memory, open files), and gauges of the network's
state read through NetworkWatch's short cache: a scrape costs at most one read of the
database per few seconds, whatever the number of scrapers. packaging/server/grafana-
dashboard.json graphs them; tests/web checks it names only metrics served here.

/healthz says the process answers (200). /readyz says it should get traffic (200): the gRPC
server is serving and the database answers within a second; else 503 and why.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from collections.abc import Callable, Iterator

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.gc_collector import GCCollector
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector
from sqlalchemy import Connection, text

from server import metrics
from server.context import ServerContext
from server.nodes.stats import NODE_STATES
from server.web.network_watch import NetworkWatch

log = logging.getLogger("hivemind.web")

READY_TIMEOUT_S = 1.0


class NetworkStateCollector:
    """Gauges (and counters kept in the database) of the last snapshot NetworkWatch read."""

    def __init__(self, watch: NetworkWatch) -> None:
        self.watch = watch

    def describe(self) -> list[Metric]:
        return []  # names are known only when collecting: no duplicate checks at register

    def collect(self) -> Iterator[Metric]:
        snapshot = self.watch.latest
        if snapshot is None:
            return
        state = snapshot.state
        tasks = GaugeMetricFamily("hivemind_tasks", "Tasks by state", labels=["state"])
        for name, count in sorted(state.tasks_by_state.items()):
            tasks.add_metric([name], count)
        yield tasks
        yield GaugeMetricFamily(
            "hivemind_queue_depth", "Tasks waiting for a node (pending)", value=state.queue_depth
        )
        jobs = GaugeMetricFamily("hivemind_jobs", "Jobs by state", labels=["state"])
        for name, count in sorted(state.jobs_by_state.items()):
            jobs.add_metric([name], count)
        yield jobs
        nodes = GaugeMetricFamily(
            "hivemind_nodes",
            "Nodes by state: busy (running work), idle, paused, offline, banned",
            labels=["state"],
        )
        for name in NODE_STATES:
            nodes.add_metric([name], state.nodes_by_state.get(name, 0))
        yield nodes
        yield GaugeMetricFamily(
            "hivemind_offered_cores",
            "CPU cores of the nodes that may lease now",
            value=state.cores_offered,
        )
        yield GaugeMetricFamily(
            "hivemind_offered_memory_bytes",
            "Memory of the nodes that may lease now",
            value=state.memory_mb_offered * 1024 * 1024,
        )
        yield GaugeMetricFamily(
            "hivemind_offered_gpus",
            "GPUs of the nodes that may lease now",
            value=state.gpus_offered,
        )
        yield GaugeMetricFamily("hivemind_users", "Accounts", value=state.users)
        balances = GaugeMetricFamily(
            "hivemind_ledger_balance_ucpt",
            "CPT held, in micro-CPT, by kind of account (user: spendable; escrow: held for jobs;"
            " starter: starter credit, which pays only for its owner's own jobs)",
            labels=["kind"],
        )
        for kind in ("user", "escrow", "starter"):
            balances.add_metric([kind], state.balances_ucpt_by_kind.get(kind, 0))
        yield balances
        yield GaugeMetricFamily(
            "hivemind_ledger_granted_ucpt",
            "CPT ever minted (grants), in micro-CPT: equals the sum of all balances",
            value=state.total_granted_ucpt,
        )
        yield CounterMetricFamily(
            "hivemind_payouts",
            "Results paid for (all servers on the database)",
            value=state.payouts,
        )
        yield CounterMetricFamily(
            "hivemind_payouts_ucpt",
            "CPT paid for results, in micro-CPT (all servers on the database)",
            value=state.payouts_ucpt,
        )
        yield GaugeMetricFamily(
            "hivemind_clawback_shortfall_ucpt",
            "What caught nodes' owners could not give back, in micro-CPT",
            value=state.clawback_shortfall_ucpt,
        )
        if snapshot.bt_uploaded_bytes is not None:
            yield CounterMetricFamily(
                "hivemind_bittorrent_uploaded_bytes",
                "Artifact bytes this server's BitTorrent seeder sent to peers",
                value=snapshot.bt_uploaded_bytes,
            )
            yield CounterMetricFamily(
                "hivemind_bittorrent_downloaded_bytes",
                "Artifact bytes this server's seeder pulled from workers (results)",
                value=snapshot.bt_downloaded_bytes or 0,
            )
        yield GaugeMetricFamily(
            "hivemind_state_read_timestamp_seconds",
            "When the state gauges above were read from the database",
            value=snapshot.taken_at,
        )


def metrics_registry(watch: NetworkWatch) -> CollectorRegistry:
    """This server's metrics: the process-wide ones and its own network state."""
    registry = CollectorRegistry()
    for collector in metrics.process_collectors():
        registry.register(collector)
    ProcessCollector(registry=registry)
    PlatformCollector(registry=registry)
    GCCollector(registry=registry)
    registry.register(NetworkStateCollector(watch))
    return registry


class Probes:
    """The handlers of /metrics, /healthz and /readyz."""

    def __init__(
        self, ctx: ServerContext, watch: NetworkWatch, serving: Callable[[], bool]
    ) -> None:
        self.ctx = ctx
        self.watch = watch
        self.serving = serving
        self.registry = metrics_registry(watch)

    async def metrics(self, request: web.Request) -> web.Response:
        token = self.ctx.settings.metrics_token
        if token:
            sent = request.headers.get("Authorization", "")
            if not hmac.compare_digest(sent.encode(), f"Bearer {token}".encode()):
                return web.Response(
                    status=401,
                    text="this server's /metrics needs its metrics_token\n",
                    headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
                )
        await self.watch.current()
        # Rendering every label set is a few milliseconds: off the event loop (the metrics
        # are thread-safe).
        body = await asyncio.to_thread(generate_latest, self.registry)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def healthz(self, request: web.Request) -> web.Response:
        return web.Response(text="ok\n")

    async def readyz(self, request: web.Request) -> web.Response:
        if not self.serving():
            return web.Response(status=503, text="not ready: gRPC is not serving\n")
        try:
            async with asyncio.timeout(READY_TIMEOUT_S):
                await self.ctx.db.run(_ping)
        except TimeoutError:
            return web.Response(status=503, text="not ready: the database does not answer\n")
        except Exception:
            log.exception("readiness: the database failed")
            return web.Response(status=503, text="not ready: database error (logged)\n")
        return web.Response(text="ready\n")


def _ping(conn: Connection) -> None:
    conn.execute(text("SELECT 1"))
