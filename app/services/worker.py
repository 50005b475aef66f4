"""The worker agent: lends this machine to the network.

It registers the machine as a node once (the credential is kept by CredentialStore and reused
on the next start), then runs two loops on the caller's asyncio loop:
- heartbeats: report usage, renew the leases of every attempt held, obey cancellations;
- leases: ask for what fits in the contributor's limits (read live from SettingsStore, so a
  changed slider applies at the next round), and run each lease as its own asyncio task
  (`worker_attempt.run_attempt`).
A policy (idle, battery, schedule) may pause it: no new leases, running tasks suspended,
heartbeats go on. Both loops survive a server that goes away and come back with it.
The agent knows nothing of Qt: listeners subscribe to `agent.events`.

Its parts: worker_node (registration), worker_heartbeat, worker_policy (pauses),
worker_attempt (one lease's life), worker_report (results until acknowledged),
worker_results (packing, kept reports), worker_cache (LRU of downloads), worker_events,
runtime_fetch (runtime images a Docker worker lacks: fetched from the server and loaded).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
from dataclasses import dataclass
from typing import Any

import grpc
import psutil

from app.services import worker_events as ev
from app.services.client import ClientError, ClientSession
from app.services.credentials import CredentialStore
from app.services.executors.base import Executor
from app.services.monitor import UsageMonitor, free_capacity
from app.services.runtime_fetch import RuntimeProvisioner
from app.services.settings import SettingsStore
from app.services.worker_attempt import AttemptDeps, HeldAttempt, run_attempt
from app.services.worker_cache import prune_cache
from app.services.worker_heartbeat import Heartbeats
from app.services.worker_node import NodeRegistration
from app.services.worker_policy import PolicyGate
from app.services.worker_report import RETRYABLE, deliver
from app.services.worker_results import PendingReports, clear_leftovers
from proto.hivemind.v1 import node_pb2

log = logging.getLogger(__name__)

MIN_TASK_MEMORY_MB = 16  # the smallest task the server accepts
MAX_LEASE_BATCH = 64  # leases asked for in one round, at most
SAFE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,79}")


@dataclass
class WorkerOptions:
    name: str = ""  # the node's name; empty = this machine's hostname
    cores: int | None = None  # overrides the contributor setting for this run (0 = all)
    memory_mb: int | None = None  # likewise (0 = 75% of memory)
    max_tasks: int = 0  # at most this many tasks at a time; 0 = as many as fit
    once: bool = False  # run one batch of leases, then stop
    exit_when_idle_s: float = 0.0  # stop after this long with nothing to do; 0 = never
    lease_poll_s: float = 1.0  # how often to ask for work when there is none
    drain_timeout_s: float = 30.0  # a graceful stop waits this long for running tasks
    benchmark_s: float = 2.0  # the CPU benchmark's length when no score is cached; 0 = skip


class WorkerAgent:
    """See the module docstring. `await agent.run()` returns after `request_stop()`."""

    def __init__(
        self,
        session: ClientSession,
        settings_store: SettingsStore,
        executor: Executor,
        credentials: CredentialStore,
        *,
        policy: Any = None,
        options: WorkerOptions | None = None,
        torrents: Any = None,
    ) -> None:
        self.session = session
        self.settings_store = settings_store
        self.executor = executor
        self.credentials = credentials
        self.policy = policy
        self.options = options or WorkerOptions()
        self.events = ev.WorkerEvents()
        self.held: dict[str, HeldAttempt] = {}
        self.stop_reason = ""  # set when the server refused this node for good (banned)
        self.tasks_done = 0
        self.tasks_failed = 0
        self.earned_ucpt = 0
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._background: set[asyncio.Task[None]] = set()
        self._stopping = asyncio.Event()
        self._hurry = asyncio.Event()
        self._slot_freed = asyncio.Event()
        self._allowed = asyncio.Event()
        self._allowed.set()
        self._monitor: UsageMonitor | None = None
        self.cache_dir = settings_store.cache_dir
        self.registration = NodeRegistration(
            session, credentials, executor, self.cache_dir, self.options.name
        )
        self._gate = PolicyGate(
            policy,
            held=self.held,
            executor=executor,
            events=self.events,
            stopping=self._stopping,
            allowed=self._allowed,
            changed=lambda: self.heartbeats.poke(),
        )
        self.heartbeats = Heartbeats(
            self.registration,
            self.held,
            self.events,
            usage=self._usage,
            paused_reason=lambda: self._gate.paused_reason,
            on_unknown_node=self._unknown_node,
            on_refused_node=self._give_up,
        )
        # A Docker worker fetches the runtime images it lacks; other executors use none.
        self.runtimes = (
            RuntimeProvisioner(executor, self.cache_dir, on_change=self._runtimes_changed)
            if executor.name == "docker"
            else None
        )
        self.deps = AttemptDeps(
            node=lambda: self.registration.proxies,
            executor=executor,
            events=self.events,
            cache_dir=self.cache_dir,
            pending=PendingReports(self.cache_dir / "pending"),
            cpu_percent=lambda: self.settings_store.settings.contributor.cpu_percent,
            abandon=asyncio.Event(),
            allowed=self._allowed,
            runtimes=self.runtimes,
        )
        # BitTorrent (issue 4): a TorrentFetcher the caller opens and closes, or None.
        self.deps.torrents = self.heartbeats.torrents = torrents
        if self.runtimes is not None:
            self.runtimes.torrents = torrents
        self.events.subscribe(self._count)

    # -- lifecycle ---------------------------------------------------------------------------

    async def run(self) -> None:
        """Registers, works until `request_stop()`, then drains. Raises ClientError only when
        registration itself is refused (not logged in, banned)."""
        await asyncio.to_thread(
            clear_leftovers, self.deps.work_root, self.deps.results_root, self.deps.pending
        )
        removed = await self.executor.cleanup_leftovers()
        if removed:
            log.info("removed %d leftovers of an earlier run", removed)
        if self.runtimes is not None:
            await asyncio.to_thread(self.runtimes.load_known)
        self._monitor = UsageMonitor()
        if not await self._register_with_retries():
            self.events.emit(ev.STOPPED)
            return
        if self.options.benchmark_s > 0 and not self.registration.benchmark_score:
            self._in_background(self._safely(self._measure_benchmark()))
        heartbeats = asyncio.create_task(self.heartbeats.run(), name="worker-heartbeats")
        resend = asyncio.create_task(self._resend_pending(), name="worker-resend")
        try:
            await self._lease_loop()
            await self._drain()
        finally:
            resend.cancel()
            heartbeats.cancel()
            for task in list(self._background):
                task.cancel()  # a benchmark's thread ends on its own; nothing waits for it
            for task in (resend, heartbeats):
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
            self.events.emit(ev.STOPPED)
            log.info("worker stopped node=%s", self.node_id)

    def request_stop(self, drain_timeout_s: float | None = None) -> None:
        """Stops leasing; running tasks get `drain_timeout_s` (default from the options) to
        finish, then are stopped and reported failed so they run elsewhere. Calling it again
        (a second Ctrl-C) stops them now. Safe to call from a signal handler on the loop."""
        if self._stopping.is_set() or drain_timeout_s == 0:
            self._hurry.set()
        if drain_timeout_s is not None:
            self.options.drain_timeout_s = drain_timeout_s
        self._stopping.set()
        self._slot_freed.set()

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    # -- registration ------------------------------------------------------------------------

    @property
    def paused_reason(self) -> str:
        """Why the policy paused this worker; empty while it works."""
        return self._gate.paused_reason

    @property
    def node_id(self) -> str:
        return self.registration.node_id

    async def register(self) -> str:
        """Makes sure this machine is a node of the server (see NodeRegistration); returns
        the node id."""
        await self.registration.ensure()
        self._registered()
        return self.node_id

    def _registered(self) -> None:
        if self.registration.heartbeat_interval_s > 0:
            self.heartbeats.interval_s = self.registration.heartbeat_interval_s
        self.events.emit(ev.REGISTERED, message=self.node_id)

    async def _register_with_retries(self) -> bool:
        delay = 0.5
        while not self._stopping.is_set():
            try:
                await self.register()
                return True
            except ClientError as exc:
                if exc.code not in RETRYABLE:
                    raise
                log.warning("cannot register yet (%s); retrying in %.0fs", exc.message, delay)
                await _wait(self._stopping, delay)
                delay = min(delay * 2, 15.0)
        return False

    async def _node_refused(self, exc: ClientError) -> None:
        """The server no longer knows this node (data wiped, node removed): register again.
        Attempts held by the old node are lost to it; stop them without reporting."""
        log.warning("node=%s refused by the server (%s); registering again", self.node_id, exc)
        for held in list(self.held.values()):
            held.cancel_reason = "server"
            held.cancel.set()
        if await self.registration.replace(self.node_id):
            self._registered()

    # -- heartbeats --------------------------------------------------------------------------

    def _usage(self) -> node_pb2.Usage:
        free_cores, free_memory = self._free_capacity()
        usage = node_pb2.Usage(free_cores=max(0, free_cores), free_memory_mb=max(0, free_memory))
        if self._monitor is not None:
            sample = self._monitor.sample()
            usage.cpu_percent = sample.cpu_percent
            usage.memory_used_mb = sample.memory_used_mb
            usage.hivemind_cpu_percent = sample.hivemind_cpu_percent
            usage.hivemind_memory_mb = sample.hivemind_memory_mb
        return usage

    async def _unknown_node(self, exc: ClientError) -> None:
        await self._safely(self._node_refused(exc))  # logged there; the loops retry

    def _give_up(self, exc: ClientError) -> None:
        """The server refuses this node (banned): asking again changes nothing, so stop."""
        if not self.stop_reason:
            self.stop_reason = exc.message
            log.error("node=%s refused by the server: %s; stopping", self.node_id, exc.message)
            self.events.emit(ev.ERROR, message=exc.message)
        self.request_stop(drain_timeout_s=0)

    # -- leasing -----------------------------------------------------------------------------

    def _free_capacity(self) -> tuple[int, int]:
        """(cores, memory MB) still free for new tasks under the contributor's limits now."""
        contributor = self.settings_store.settings.contributor
        cores = self.options.cores if self.options.cores is not None else contributor.cores
        memory = (
            self.options.memory_mb if self.options.memory_mb is not None else contributor.memory_mb
        )
        hw = self.registration.hardware
        total_cores, total_memory = free_capacity(cores, memory, hw.cores, hw.memory_mb)
        used_cores = sum(h.cores for h in self.held.values())
        used_memory = sum(h.memory_mb for h in self.held.values())
        return total_cores - used_cores, total_memory - used_memory

    def _free_disk_mb(self) -> int:
        try:
            free = psutil.disk_usage(str(self.cache_dir)).free // (1024 * 1024)
        except OSError:
            return 0
        cap = self.settings_store.settings.contributor.disk_mb
        return min(free, cap) if cap > 0 else free

    async def _lease_loop(self) -> None:
        idle_since = time.monotonic()
        took_batch = False
        failures = empty_rounds = 0
        announced_idle = False
        while not self._stopping.is_set():
            if not await self._gate.allows_work():
                continue
            if self.options.once and took_batch:
                if not self.held:
                    log.info("--once: the batch is done")
                    break
                await self._wait_for_slot(self.options.lease_poll_s)
                continue
            free_cores, free_memory = self._free_capacity()
            slots = MAX_LEASE_BATCH
            if self.options.max_tasks > 0:
                slots = self.options.max_tasks - len(self.held)
            if free_cores < 1 or free_memory < MIN_TASK_MEMORY_MB or slots <= 0:
                await self._wait_for_slot(self.options.lease_poll_s)
                continue
            request = node_pb2.LeaseTasksRequest(
                free_cores=free_cores,
                free_memory_mb=free_memory,
                free_disk_mb=self._free_disk_mb(),
                max_tasks=slots,
                runtimes=await self.registration.runtimes(),
            )
            try:
                reply = await self.registration.proxies.nodes.LeaseTasks(request)
                failures = 0
            except ClientError as exc:
                failures += 1
                if exc.code == grpc.StatusCode.UNAUTHENTICATED:
                    await self._unknown_node(exc)
                elif exc.code == grpc.StatusCode.PERMISSION_DENIED:
                    self._give_up(exc)
                elif failures == 1 or failures % 10 == 0:
                    log.warning("lease request failed node=%s (%s)", self.node_id, exc.message)
                    self.events.emit(ev.ERROR, message=f"cannot lease tasks: {exc.message}")
                await _wait(self._stopping, min(30.0, 0.5 * 2 ** min(failures, 6)))
                continue
            if reply.leases:
                took_batch, announced_idle, empty_rounds = True, False, 0
                for lease in reply.leases:
                    self._start_attempt(lease)
                continue
            empty_rounds += 1
            if self.held:
                idle_since = time.monotonic()
            elif not announced_idle:
                announced_idle = True
                self.events.emit(ev.IDLE)
            idle_for = time.monotonic() - idle_since
            limit = self.options.exit_when_idle_s
            if limit > 0 and not self.held and idle_for >= limit:
                log.info("nothing to do for %.0fs: stopping", idle_for)
                break
            # An idle network is asked less and less often (up to 8x the poll interval, at
            # most 5 s): thousands of idle workers must not flood the server.
            poll = self.options.lease_poll_s
            backoff = min(poll * (1 + empty_rounds / 4), max(poll, min(5.0, poll * 8)))
            await self._wait_for_slot(backoff)
        self._stopping.set()

    def _start_attempt(self, lease: node_pb2.TaskLease) -> None:
        if not SAFE_ID.fullmatch(lease.attempt_id) or lease.attempt_id in self.held:
            # The id names folders on this disk: never let a server's reply choose a path.
            log.error("ignoring a lease with a bad attempt id %r", lease.attempt_id[:80])
            return
        held = HeldAttempt(
            lease=lease,
            cores=max(1, lease.resources.cores),
            memory_mb=max(MIN_TASK_MEMORY_MB, lease.resources.memory_mb),
        )
        self.heartbeats.note_deadline(lease.lease_deadline)
        self.held[lease.attempt_id] = held
        log.info("%s leased runtime=%s cores=%d", held.tag, lease.runtime, held.cores)
        task = asyncio.create_task(run_attempt(held, self.deps), name=f"attempt-{lease.attempt_id}")
        self._tasks[lease.attempt_id] = task
        task.add_done_callback(lambda _t, aid=lease.attempt_id: self._attempt_done(aid))
        self.heartbeats.poke()  # beat at the lease's pace from now on

    def _attempt_done(self, attempt_id: str) -> None:
        self.held.pop(attempt_id, None)
        self._tasks.pop(attempt_id, None)
        self._slot_freed.set()
        self._in_background(self._prune_cache())

    def _in_background(self, coroutine: Any) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._background.add(task)  # keep a reference until it is done
        task.add_done_callback(self._background.discard)

    async def _measure_benchmark(self) -> None:
        """The node's CPU score, measured while the worker already works (registering does not
        wait seconds for it), and only while the contributor's policy lets it use the CPU."""
        await self._allowed.wait()
        if not self._stopping.is_set():
            await self.registration.measure_benchmark(self.options.benchmark_s)

    def _runtimes_changed(self) -> None:
        """A runtime image was loaded: lease requests say so from now on, and the server's
        record of this node learns it at once."""
        self.registration.forget_runtimes()
        self._in_background(self._safely(self.registration.report_facts()))

    async def _prune_cache(self) -> None:
        limit = self.settings_store.settings.contributor.cache_max_mb
        try:
            await asyncio.to_thread(prune_cache, self.cache_dir, limit)
        except OSError as exc:
            log.warning("cache prune failed: %s", exc)

    async def _wait_for_slot(self, timeout: float) -> None:
        self._slot_freed.clear()
        await _wait(self._slot_freed, timeout)

    # -- stopping and restarting -------------------------------------------------------------

    async def _drain(self) -> None:
        pending = [t for t in self._tasks.values() if not t.done()]
        if pending and not self._hurry.is_set():
            log.info(
                "stopping: waiting up to %.0fs for %d running tasks",
                self.options.drain_timeout_s,
                len(pending),
            )
            hurry = asyncio.ensure_future(self._hurry.wait())
            deadline = time.monotonic() + self.options.drain_timeout_s
            while pending and not self._hurry.is_set() and time.monotonic() < deadline:
                await asyncio.wait(
                    [*pending, hurry],
                    timeout=deadline - time.monotonic(),
                    return_when=asyncio.FIRST_COMPLETED,
                )
                pending = [t for t in pending if not t.done()]
            hurry.cancel()
        for held in list(self.held.values()):
            if held.stage != "reporting" and not held.cancel.is_set():
                held.cancel_reason = "stop"
                held.cancel.set()
        self._allowed.set()  # attempts waiting for a pause to end must see the stop
        tasks = list(self._tasks.values())
        if tasks:
            await asyncio.wait(tasks, timeout=10.0)
        self.deps.abandon.set()  # reports not delivered by now stay on disk for next start
        tasks = list(self._tasks.values())
        if tasks:
            await asyncio.wait(tasks, timeout=3.0)
        for task in self._tasks.values():
            task.cancel()

    async def _resend_pending(self) -> None:
        """Reports a crashed or stopped run could not deliver: send them now."""
        reports = await asyncio.to_thread(self.deps.pending.load_all)
        for report in reports:
            if report.attempt_id in self.held:
                continue
            log.info(
                "attempt=%s job=%s task=%d resending a kept report",
                report.attempt_id,
                report.job_id,
                report.task_index,
            )
            await self._safely(deliver(report, self.deps))

    async def _safely(self, awaitable: Any) -> Any:
        try:
            return await awaitable
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("node=%s %s: %s", self.node_id, type(exc).__name__, exc)
            self.events.emit(ev.ERROR, message=str(exc))
            return None

    def _count(self, event: ev.WorkerEvent) -> None:
        if event.kind == ev.TASK_FINISHED:
            self.tasks_done += 1
        elif event.kind == ev.TASK_FAILED:
            self.tasks_failed += 1
        elif event.kind == ev.PAYOUT:
            self.earned_ucpt += event.payout_ucpt


async def _wait(event: asyncio.Event, timeout: float) -> None:
    """Waits for `event` at most `timeout` seconds."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(event.wait(), timeout=max(0.0, timeout))
