"""The background sweep: expires lapsed leases and marks silent nodes offline, every
`settings.sweep_interval_s`, until the server stops. With Redis it first reads what Redis
knows of beats and renewals (server/nodes/presence.py); every replica sweeps."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from sqlalchemy import Connection

from server.context import ServerContext
from server.jobs.effects import Effects
from server.nodes.presence import PresenceView
from server.validation.expiry import Released, expire_leases, mark_silent_nodes_offline

log = logging.getLogger("hivemind.sweeper")


def sweep_once(
    conn: Connection, now: float, offline_after_s: float, view: PresenceView | None = None
) -> tuple[Released, Effects]:
    effects = Effects()
    released = mark_silent_nodes_offline(conn, now, offline_after_s, effects, view)
    released.add(expire_leases(conn, now, effects, view))
    return released, effects


async def sweep(ctx: ServerContext) -> Released:
    """One sweep (its own transaction), then tells job watchers what changed."""
    now = time.time()
    view = await ctx.presence.sweep_view(now) if ctx.presence is not None else None
    released, effects = await ctx.db.run(
        sweep_once, now, float(ctx.settings.node_offline_after_s), view
    )
    effects.announce(ctx.events)
    if ctx.presence is not None and released.nodes_offline:
        await ctx.presence.forget_nodes(released.nodes_offline)
    if released.nodes_offline:
        log.info("nodes offline nodes=%s", ",".join(released.nodes_offline))
    if released.attempts:
        log.info(
            "leases released attempts=%d requeued=%d failed=%d",
            released.attempts,
            released.requeued,
            released.failed,
        )
    return released


async def run_sweeper(ctx: ServerContext, stop: asyncio.Event) -> None:
    interval = max(float(ctx.settings.sweep_interval_s), 0.05)
    while not stop.is_set():
        try:
            await sweep(ctx)
        except Exception:  # a failed sweep must not end sweeping; the next one retries
            log.exception("sweep failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), interval)
