"""The worker agent: lends this machine to the network.

It registers the machine as a node once (the credential is kept by CredentialStore and reused
on the next start), then runs two loops on the caller's asyncio loop:
- heartbeats: report usage, renew the leases of every attempt held, obey cancellations;
- leases: ask for what fits in the contributor's limits (read live from SettingsStore, so a
  changed slider applies at the next round), and run each lease as its own asyncio task
  (`attempt.run_attempt`).
A policy (idle, battery, schedule) may pause it: no new leases, running tasks suspended,
heartbeats go on. Both loops survive a server that goes away and come back with it.
The agent knows nothing of Qt: listeners subscribe to `agent.events`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import grpc

from app.services.aio import wait_event
from app.services.client.credentials import CredentialStore
from app.services.client.session import ClientError, ClientSession
from app.services.executors.base import Executor
from app.services.monitor import UsageMonitor
from app.services.settings import SettingsStore
from app.services.worker import events as ev
from app.services.worker.attempt import run_attempt
from app.services.worker.cache import prune_cache
from app.services.worker.capacity import MIN_TASK_MEMORY_MB, Capacity
from app.services.worker.drain import drain_attempts, resend_kept_reports
from app.services.worker.heartbeat import Heartbeats
from app.services.worker.held import AttemptDeps, HeldAttempt
from app.services.worker.node import NodeRegistration
from app.services.worker.options import WorkerOptions
from app.services.worker.policy import PolicyGate
from app.services.worker.report import RETURN_REASON
from app.services.worker.results import PendingReports, clear_leftovers
from app.services.worker.runtime_fetch import RuntimeProvisioner
from app.services.worker.secret import SecretRotation
from proto.hivemind.v1 import node_pb2

if TYPE_CHECKING:
    from app.services.torrent.fetch import TorrentFetcher

# What _lease answers when the policy paused the worker during a long-poll: ask the policy
# again at once (it pauses the worker), then the server.
ASK_AGAIN = node_pb2.LeaseTasksResponse()

log = logging.getLogger(__name__)

SAFE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,79}")


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
        torrents: TorrentFetcher | None = None,
        nvml: Any = None,
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
        # Why the server gives this node fewer tasks than it asks for (quarantine, its day's
        # lease quota), as its last lease reply said; "" when it does not hold it back.
        self.held_back = ""
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
        self.cache_dir = settings_store.cache_dir
        self.registration = NodeRegistration(
            session, credentials, executor, self.cache_dir, self.options.name, nvml
        )
        self.capacity = Capacity(
            settings_store, self.options, self.registration, self.held, self.cache_dir
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
            usage=self.capacity.usage,
            paused_reason=lambda: self._gate.paused_reason,
            on_unknown_node=self._unknown_node,
            on_refused_node=self._give_up,
            torrents=torrents,
        )
        self.secret_rotation = SecretRotation(
            self.registration,
            settings_store,
            on_refused=self._unknown_node,
            check_interval_s=self.options.secret_check_s,
        )
        # A Docker worker fetches the runtime images it lacks; other executors use none.
        self.runtimes = (
            RuntimeProvisioner(
                executor, self.cache_dir, on_change=self._runtimes_changed, torrents=torrents
            )
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
            torrents=torrents,
        )
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
        self.capacity.monitor = UsageMonitor(outside=self.executor.outside_usage)
        if not await self.registration.ensure_with_retries(self._stopping):
            self.events.emit(ev.STOPPED)
            return
        self._registered()
        if self.options.benchmark_s > 0 and not self.registration.benchmark_score:
            self._in_background(self._safely(self._measure_benchmark()))
        loops = [
            asyncio.create_task(self.heartbeats.run(), name="worker-heartbeats"),
            asyncio.create_task(
                resend_kept_reports(self.deps, self.held, self._safely), name="worker-resend"
            ),
            asyncio.create_task(self.secret_rotation.run(), name="worker-secret"),
        ]
        try:
            await self._lease_loop()
            drain_s = self.options.drain_timeout_s
            await drain_attempts(
                self._tasks, self.held, self.deps, hurry=self._hurry, timeout_s=drain_s
            )
        finally:
            for task in loops:
                task.cancel()
            for task in list(self._background):
                task.cancel()  # a benchmark's thread ends on its own; nothing waits for it
            for task in loops:
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

    # -- registration and refusals ----------------------------------------------------------

    @property
    def paused_reason(self) -> str:
        """Why the policy paused this worker; empty while it works."""
        return self._gate.paused_reason

    @property
    def node_id(self) -> str:
        return self.registration.node_id

    async def register(self) -> str:
        """Makes sure this machine is a node of the server (NodeRegistration); its id."""
        await self.registration.ensure()
        self._registered()
        return self.node_id

    def _registered(self) -> None:
        if self.registration.heartbeat_interval_s > 0:
            self.heartbeats.interval_s = self.registration.heartbeat_interval_s
        self.events.emit(ev.REGISTERED, message=self.node_id, new_node=self.registration.new_node)

    async def _node_refused(self, exc: ClientError) -> None:
        """The server refused this node's credential: a rotated secret (a lost reply, another
        process, someone else), or a node it no longer knows (data wiped, node removed).
        NodeRegistration.recover keeps the node when it can, else registers again."""
        log.warning("node=%s credential refused by the server (%s)", self.node_id, exc)
        if await self.registration.recover(self.node_id, before_new_node=self._drop_held):
            self._registered()

    def _drop_held(self) -> None:
        """Attempts held by a node being replaced are lost to it: stop them, no report."""
        for held in list(self.held.values()):
            held.cancel_reason = "server"
            held.cancel.set()

    async def _unknown_node(self, exc: ClientError) -> None:
        await self._safely(self._node_refused(exc))  # logged there; the loops retry

    def _give_up(self, exc: ClientError) -> None:
        """The server refuses this node (banned): asking again changes nothing, so stop."""
        if not self.stop_reason:
            self.stop_reason = exc.message
            log.error("node=%s refused by the server: %s; stopping", self.node_id, exc.message)
            self.events.emit(ev.ERROR, message=exc.message, status=exc.code.name, reason=exc.reason)
        self.request_stop(drain_timeout_s=0)

    # -- leasing -----------------------------------------------------------------------------

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
            request = await self.capacity.lease_request()
            if request is None:
                await self._wait_for_slot(self.options.lease_poll_s)
                continue
            # Idle: wait on the server for work rather than asking again and again (not past
            # the moment an idle worker is to stop).
            wait_s = self.options.lease_wait_s if not self.held else 0.0
            if self.options.exit_when_idle_s > 0:
                idle_left = self.options.exit_when_idle_s - (time.monotonic() - idle_since)
                wait_s = min(wait_s, max(0.0, idle_left))
            request.wait_ms = int(wait_s * 1000)
            asked_at = time.monotonic()
            try:
                reply = await self._lease(request)
                failures = 0
                if reply is ASK_AGAIN:  # the policy paused the worker while the server waited
                    continue
                if reply is not None:  # None: stopping
                    self._note_held_back(reply.held_back)
            except ClientError as exc:
                failures += 1
                if exc.code == grpc.StatusCode.UNAUTHENTICATED:
                    await self._unknown_node(exc)
                elif exc.code == grpc.StatusCode.PERMISSION_DENIED:
                    self._give_up(exc)
                elif failures == 1 or failures % 10 == 0:
                    log.warning("lease request failed node=%s (%s)", self.node_id, exc.message)
                    self.events.emit(
                        ev.ERROR,
                        message=f"cannot lease tasks: {exc.message}",
                        status=exc.code.name,
                        reason=exc.reason,
                    )
                await _wait(self._stopping, min(30.0, 0.5 * 2 ** min(failures, 6)))
                continue
            if reply is None:
                break  # stopping
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
            if wait_s > 0 and time.monotonic() - asked_at >= wait_s / 2:
                continue  # the server held the call while there was nothing: ask again now
            # An idle network is asked less and less often (up to 8x the poll interval, at
            # most 5 s): thousands of idle workers must not flood the server (one that does
            # not hold a LeaseTasks call, predating long-polls, is asked this way too).
            poll = self.options.lease_poll_s
            backoff = min(poll * (1 + empty_rounds / 4), max(poll, min(5.0, poll * 8)))
            await self._wait_for_slot(backoff)
        self._stopping.set()

    async def _lease(
        self, request: node_pb2.LeaseTasksRequest
    ) -> node_pb2.LeaseTasksResponse | None:
        """LeaseTasks, given up when the worker is asked to stop meanwhile (None then): a
        long-poll may otherwise hold a stop for its whole wait. A call that asks without
        waiting is let finish instead (the server may have leased already): what it brings
        while the worker stops is handed straight back, so no task waits for a lease to
        expire on a machine that has stopped."""
        call = asyncio.ensure_future(self.registration.proxies.nodes.LeaseTasks(request))
        stopping = asyncio.ensure_future(self._stopping.wait())
        waits = {call, stopping}
        pausing: asyncio.Future[Any] | None = None
        unwatch: Callable[[], None] = lambda: None  # noqa: E731
        if request.wait_ms > 0:  # a pause must not wait for the server's long-poll to end
            paused, unwatch = self._gate.watch_pause()
            pausing = asyncio.ensure_future(paused.wait())
            waits.add(pausing)
        try:
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        except BaseException:
            call.cancel()
            raise
        finally:
            stopping.cancel()
            if pausing is not None:
                pausing.cancel()
            unwatch()
        if not call.done() and request.wait_ms == 0:
            with contextlib.suppress(asyncio.CancelledError, ClientError):
                await asyncio.wait_for(asyncio.shield(call), 10)
        if call.done():
            if call.cancelled() or call.exception() is not None:
                if not self._stopping.is_set():
                    return call.result()  # raises what the call raised
                return None
            reply = call.result()
            if not self._stopping.is_set():
                return reply
            await self._return_unstarted(reply.leases)
            return None
        call.cancel()
        with contextlib.suppress(asyncio.CancelledError, ClientError):
            await call
        return None if self._stopping.is_set() else ASK_AGAIN

    async def _return_unstarted(self, leases: Sequence[node_pb2.TaskLease]) -> None:
        """Hands back leases that arrived as the worker stopped, never started here."""
        if not leases:
            return
        ids = [lease.attempt_id for lease in leases]
        request = node_pb2.ReturnAttemptsRequest(attempt_ids=ids, reason=RETURN_REASON)
        try:
            await self.registration.proxies.nodes.ReturnAttempts(request, timeout=10)
            log.info("handed back %d lease(s) that arrived while stopping", len(ids))
        except ClientError as exc:  # they expire on the server instead
            log.warning("leases that arrived while stopping not handed back (%s)", exc.message)

    def _note_held_back(self, reason: str) -> None:
        """Says once (in the log and to listeners) when the server starts or stops holding
        this node back, and why: its owner must know why it gets no work."""
        if reason == self.held_back:
            return
        self.held_back = reason
        if reason:
            log.warning("node=%s gets fewer tasks from the server: %s", self.node_id, reason)
            self.events.emit(ev.HELD_BACK, message=reason)
        else:
            log.info("node=%s is no longer held back by the server", self.node_id)

    def _start_attempt(self, lease: node_pb2.TaskLease) -> None:
        if not SAFE_ID.fullmatch(lease.attempt_id) or lease.attempt_id in self.held:
            # The id names folders on this disk: never let a server's reply choose a path.
            log.error("ignoring a lease with a bad attempt id %r", lease.attempt_id[:80])
            return
        held = HeldAttempt(
            lease=lease,
            cores=max(1, lease.resources.cores),
            memory_mb=max(MIN_TASK_MEMORY_MB, lease.resources.memory_mb),
            gpus=max(0, lease.resources.gpus),
        )
        held.gpu_devices = self.capacity.take_gpus(held.gpus)
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

    # -- helpers -----------------------------------------------------------------------------

    async def _safely(self, awaitable: Any) -> Any:
        try:
            return await awaitable
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("node=%s %s: %s", self.node_id, type(exc).__name__, exc)
            if isinstance(exc, ClientError):
                self.events.emit(
                    ev.ERROR, message=exc.message, status=exc.code.name, reason=exc.reason
                )
            else:
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
    await wait_event(event, timeout)
