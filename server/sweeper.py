"""The background sweep: expires lapsed leases, marks silent nodes offline and closes the
rounds whose deadline passed, every `settings.sweep_interval_s`, until the server stops; less
often, decides what has waited too long for a node that is not online (validation/way_out.py);
and housekeeping every `settings.housekeeping_interval_s` (and at start): stored files that
nothing tracks, submissions a crash cut short, cancelled jobs left uncompacted."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from sqlalchemy import Connection

from server.config import ServerSettings
from server.context import ServerContext
from server.jobs.effects import Effects
from server.jobs.lifecycle import tidy_jobs
from server.validation.expiry import Released, expire_leases, mark_silent_nodes_offline
from server.validation.rounds import close_rounds_past_deadline
from server.validation.way_out import WaysOut, decide_stale_waits

log = logging.getLogger("hivemind.sweeper")

# How often the ways out are looked for: a quarter of the wait, within these bounds.
WAY_OUT_EVERY_S = (0.2, 60.0)


def sweep_once(conn: Connection, now: float, settings: ServerSettings) -> tuple[Released, Effects]:
    effects = Effects()
    offline_after_s = float(settings.node_offline_after_s)
    released = mark_silent_nodes_offline(conn, now, offline_after_s, effects, settings)
    released.add(expire_leases(conn, now, effects, settings))
    close_rounds_past_deadline(conn, now, effects)
    effects.apply(conn, now)
    return released, effects


def ways_out_once(
    conn: Connection, now: float, settings: ServerSettings
) -> tuple[WaysOut, Effects]:
    effects = Effects()
    return decide_stale_waits(conn, now, settings, effects), effects


async def sweep(ctx: ServerContext) -> Released:
    """One sweep (its own transaction), then tells job watchers what changed."""
    released, effects = await ctx.db.run(sweep_once, time.time(), ctx.settings)
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


async def find_ways_out(ctx: ServerContext) -> WaysOut:
    """One pass of validation/way_out.py (its own transaction), then tells job watchers."""
    found, effects = await ctx.db.run(ways_out_once, time.time(), ctx.settings)
    effects.announce(ctx.events)
    if found.any:
        log.info(
            "waits decided tasks=%d comparisons_failed=%d tasks_failed=%d",
            found.tasks_decided,
            found.comparisons_failed,
            found.tasks_failed,
        )
    return found


def way_out_interval(settings: ServerSettings) -> float:
    low, high = WAY_OUT_EVERY_S
    every = min(max(settings.wait_for_nodes_s / 4, low), high)
    return max(every, float(settings.sweep_interval_s))


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
    ways_out_every = way_out_interval(ctx.settings)
    next_ways_out = time.monotonic() + ways_out_every
    housekeeping_interval = float(ctx.settings.housekeeping_interval_s)
    next_housekeeping = time.monotonic()
    while not stop.is_set():
        try:
            await sweep(ctx)
            if time.monotonic() >= next_ways_out:
                next_ways_out = time.monotonic() + ways_out_every
                await find_ways_out(ctx)
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
