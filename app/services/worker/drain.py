"""Stopping and restarting the worker: a stopping worker drains its attempts (finish within the
drain timeout, else stop and hand them back to the server), and a starting one resends the
reports an earlier run kept on disk because it could not deliver them.

Runs on the worker's loop.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from app.services.worker.held import AttemptDeps, HeldAttempt
from app.services.worker.report import deliver

log = logging.getLogger("app.services.worker.agent")


async def drain_attempts(
    tasks: dict[str, asyncio.Task[None]],
    held: dict[str, HeldAttempt],
    deps: AttemptDeps,
    *,
    hurry: asyncio.Event,
    timeout_s: float,
) -> None:
    """Waits up to `timeout_s` (less once `hurry` is set) for running attempts to finish, then
    stops the rest and hands them back (ReturnAttempts: they run elsewhere, and the server
    counts no failure). `tasks` and `held` are the agent's live dicts: attempts leave them as
    they end."""
    pending = [t for t in tasks.values() if not t.done()]
    if pending and not hurry.is_set():
        log.info("stopping: waiting up to %.0fs for %d running tasks", timeout_s, len(pending))
        hurried = asyncio.ensure_future(hurry.wait())
        deadline = time.monotonic() + timeout_s
        while pending and not hurry.is_set() and time.monotonic() < deadline:
            await asyncio.wait(
                [*pending, hurried],
                timeout=deadline - time.monotonic(),
                return_when=asyncio.FIRST_COMPLETED,
            )
            pending = [t for t in pending if not t.done()]
        hurried.cancel()
    for attempt in list(held.values()):
        if attempt.stage != "reporting" and not attempt.cancel.is_set():
            attempt.cancel_reason = "stop"
            attempt.cancel.set()
    deps.allowed.set()  # attempts waiting for a pause to end must see the stop
    running = list(tasks.values())
    if running:
        await asyncio.wait(running, timeout=10.0)
    deps.abandon.set()  # reports not delivered by now stay on disk for next start
    running = list(tasks.values())
    if running:
        await asyncio.wait(running, timeout=3.0)
    for task in tasks.values():
        task.cancel()


async def resend_kept_reports(
    deps: AttemptDeps,
    held: dict[str, HeldAttempt],
    safely: Callable[[Awaitable[Any]], Awaitable[Any]],
) -> None:
    """Reports a crashed or stopped run could not deliver: send them now. `safely` runs each
    delivery so one failure is logged and the next report still goes."""
    reports = await asyncio.to_thread(deps.pending.load_all)
    for report in reports:
        if report.attempt_id in held:
            continue
        log.info(
            "attempt=%s job=%s task=%d resending a kept report",
            report.attempt_id,
            report.job_id,
            report.task_index,
        )
        await safely(deliver(report, deps))
