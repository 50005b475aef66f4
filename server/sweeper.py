"""The background sweep: expires lapsed leases, marks silent nodes offline and closes the
rounds whose deadline passed, every `settings.sweep_interval_s`, until the server stops; and
housekeeping every `settings.housekeeping_interval_s` (and at start): stored files that
nothing tracks, submissions a crash cut short, cancelled jobs left uncompacted."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from sqlalchemy import Connection

from server.context import ServerContext
from server.jobs.effects import Effects
from server.jobs.lifecycle import tidy_jobs
from server.validation.expiry import Released, expire_leases, mark_silent_nodes_offline
from server.validation.rounds import close_rounds_past_deadline

log = logging.getLogger("hivemind.sweeper")


def sweep_once(conn: Connection, now: float, offline_after_s: float) -> tuple[Released, Effects]:
    effects = Effects()
    released = mark_silent_nodes_offline(conn, now, offline_after_s, effects)
    released.add(expire_leases(conn, now, effects))
    close_rounds_past_deadline(conn, now, effects)
    effects.apply(conn, now)
    return released, effects


async def sweep(ctx: ServerContext) -> Released:
    """One sweep (its own transaction), then tells job watchers what changed."""
    released, effects = await ctx.db.run(
        sweep_once, time.time(), float(ctx.settings.node_offline_after_s)
    )
    effects.announce(ctx.events)
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


async def housekeeping(ctx: ServerContext) -> None:
    cancelled, deleted = await tidy_jobs(ctx)
    if cancelled or deleted:
        log.info("jobs tidied submissions_cancelled=%d tasks_deleted=%d", cancelled, deleted)
    collected = await ctx.artifacts.collect_orphans()
    if collected.files or collected.temp_files or collected.reservations:
        log.info(
            "orphans collected files=%d temp_files=%d reservations=%d bytes=%d",
            collected.files,
            collected.temp_files,
            collected.reservations,
            collected.bytes,
        )


async def run_sweeper(ctx: ServerContext, stop: asyncio.Event) -> None:
    interval = max(float(ctx.settings.sweep_interval_s), 0.05)
    housekeeping_interval = float(ctx.settings.housekeeping_interval_s)
    next_housekeeping = time.monotonic()
    while not stop.is_set():
        try:
            await sweep(ctx)
        except Exception:  # a failed sweep must not end sweeping; the next one retries
            log.exception("sweep failed")
        if housekeeping_interval > 0 and time.monotonic() >= next_housekeeping:
            next_housekeeping = time.monotonic() + housekeeping_interval
            try:
                await housekeeping(ctx)
            except Exception:
                log.exception("housekeeping failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), interval)
