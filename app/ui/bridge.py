"""The one bridge between the asyncio services and the widgets.

Widgets call the bridge's plain methods (`login`, `set_sharing`, `submit`, ...); each starts
a coroutine on the app's asyncio loop (qasync runs it inside Qt's event loop) and returns at
once, so no network, Docker or disk wait ever happens on the GUI thread's critical path.
What the coroutines learn comes back as Qt signals carrying `app.ui.models` values. The
server requests themselves are in `job_actions` (earnings, jobs, estimates, submitting,
logs, results) and `sharing` (the worker); the bridge runs them and emits what they return.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QTimer, QTimeZone, Signal

from app.services.client.credentials import CredentialStore
from app.services.client.session import (
    ClientError,
    ClientSession,
    check_server,
    parse_server_addresses,
)
from app.services.monitor import UsageMonitor
from app.services.settings import ClientSettings, SettingsStore
from app.services.worker.policy import contributor_policy
from app.ui import job_actions, models
from app.ui.sharing import FINISH_TASKS_S, SharingController, is_offline_error

log = logging.getLogger(__name__)

USAGE_INTERVAL_MS = 2000
EARNINGS_INTERVAL_MS = 60_000
JOBS_ACTIVE_INTERVAL_MS = 2000
JOBS_IDLE_INTERVAL_MS = 30_000
LOG_HISTORY = 500


class Bridge(QObject):
    # Account
    account_changed = Signal(object)  # models.AccountState
    auth_result = Signal(bool, object)  # ok, the models.Problem when not
    server_result = Signal(bool, object)  # switched to the server, the models.Problem if not
    settings_changed = Signal(object)  # ClientSettings (any change, from anywhere)
    language_requested = Signal(str)  # a language code the user chose
    # Sharing
    sharing_changed = Signal(object)  # models.SharingState
    usage_sampled = Signal(object)  # models.UsageSample
    running_tasks_changed = Signal(list)  # [models.RunningTask]
    activity = Signal(object)  # models.ActivityEvent
    gpu_status = Signal(bool, str)  # available, reason when not
    gpus_found = Signal(int)  # NVIDIA GPUs on this machine (sent before gpu_status)
    # Earnings
    earnings_loaded = Signal(object)  # models.EarningsSnapshot
    # Jobs
    jobs_loaded = Signal(list)  # [models.JobRow]
    # worst case ucpt (-1 = none), the balance it would be held from ("cpt", "starter", "" =
    # neither covers it), models.Problem | None
    estimate_ready = Signal(int, str, object)
    upload_progress = Signal(int, int)  # bytes done, total
    submit_finished = Signal(bool, object)  # ok, the job id (str) or the models.Problem
    job_log_loaded = Signal(str, list, object)  # job id, [models.TaskLog], models.Problem|None
    results_downloaded = Signal(str, str, object)  # job id, folder, models.Problem | None
    job_rounds_loaded = Signal(str, list)  # job id, [models.RoundRow]
    # The app's own log, for the log viewer
    log_line = Signal(str)

    def __init__(
        self,
        store: SettingsStore,
        credentials: CredentialStore | None = None,
        *,
        policy: Any = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.store = store
        self.credentials = credentials or CredentialStore(store.home)
        self.session = ClientSession(store, self.credentials)
        self.account = models.AccountState(server=store.settings.server)
        self.sharing = SharingController(
            self.session,
            store,
            self.credentials,
            self._sharing_state,
            self._worker_activity,
            policy=policy if policy is not None else contributor_policy(store),
        )
        self._tasks: set[asyncio.Future] = set()
        self._log_history: deque[str] = deque(maxlen=LOG_HISTORY)
        self._jobs: dict[str, models.JobRow] = {}
        self._last_tasks: list[models.RunningTask] = []
        self._monitor: UsageMonitor | None = None
        self._memory_total_mb = 0
        self._started = False
        self._closing = False
        self._unsubscribe = store.subscribe(self._settings_saved)

        self._usage_timer = QTimer(self)
        self._usage_timer.setInterval(USAGE_INTERVAL_MS)
        self._usage_timer.timeout.connect(lambda: self._spawn(self._sample_usage()))
        self._earnings_timer = QTimer(self)
        self._earnings_timer.setInterval(EARNINGS_INTERVAL_MS)
        self._earnings_timer.timeout.connect(self.refresh_earnings)
        self._jobs_timer = QTimer(self)
        self._jobs_timer.setInterval(JOBS_IDLE_INTERVAL_MS)
        self._jobs_timer.timeout.connect(self.refresh_jobs)
        # Payouts come in bursts; one earnings refresh shortly after the last is enough.
        self._earnings_soon = QTimer(self)
        self._earnings_soon.setSingleShot(True)
        self._earnings_soon.setInterval(1500)
        self._earnings_soon.timeout.connect(self.refresh_earnings)

    # -- plumbing ------------------------------------------------------------------------------

    @property
    def sharing_state(self) -> models.SharingState:
        return self.sharing.state

    def spawn(self, coro: Awaitable[Any]) -> asyncio.Future:
        """Runs a widget's coroutine on the app's loop (kept alive, what it raises logged)."""
        return self._spawn(coro)

    def _spawn(self, coro: Awaitable[Any]) -> asyncio.Future:
        """Runs `coro` on the loop; the bridge keeps it alive and logs what it raises."""
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Future) -> None:
        self._tasks.discard(task)
        if task.cancelled():
            return
        exc = task.exception()
        if exc is not None:
            log.error("background task failed: %s", exc, exc_info=exc)

    async def _rpc(self, call: Callable[[], Awaitable[Any]]) -> Any:
        """One server call; keeps the sharing state's idea of reachability current."""
        try:
            result = await call()
        except ClientError as exc:
            if is_offline_error(exc):
                self.sharing.server_reachable(False)
            raise
        self.sharing.server_reachable(True)
        return result

    def add_log_line(self, line: str) -> None:
        self._log_history.append(line)
        self.log_line.emit(line)

    def log_history(self) -> list[str]:
        return list(self._log_history)

    # -- start and stop ------------------------------------------------------------------------

    def start(self) -> None:
        """Restores the stored sign-in, starts sharing if it was on, starts the live samples."""
        if self._started:
            return
        self._started = True
        self._earnings_timer.start()
        self._jobs_timer.start()
        self._spawn(self._restore_session())
        self._spawn(self._check_gpu())

    async def shutdown(self, finish_tasks: bool = False) -> None:
        """Stops sharing and closes the connection. Running tasks are handed back at once,
        or, with `finish_tasks`, finish first (the sharing state says so meanwhile, and
        `stop_now()` hands back what is left)."""
        if self._closing:
            return
        self._closing = True
        for timer in (self._usage_timer, self._earnings_timer, self._jobs_timer):
            timer.stop()
        await self.sharing.stop(drain_s=FINISH_TASKS_S if finish_tasks else 0)
        self.sharing.close()
        await asyncio.sleep(0)  # lets the policy's cancelled background refresh finish
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=2)
        self._unsubscribe()
        await self.session.close()

    async def _restore_session(self) -> None:
        server = self.store.settings.server
        stored = await asyncio.to_thread(self.credentials.load_user, server)
        if stored is None:
            self._set_account(models.AccountState(server=server))
            await self.sharing.sync()
            return
        # Show the stored identity at once; the server confirms it in the background.
        self._set_account(models.AccountState(username=stored.username, server=server))
        try:
            user = await self._rpc(self.session.whoami)
        except ClientError as exc:
            if not is_offline_error(exc):
                log.warning("stored sign-in refused: %s", exc.message)
                self._set_account(models.AccountState(server=server))
        else:
            self._set_account(models.AccountState(user.username, server, is_admin=user.is_admin))
        await self.sharing.sync()
        if self.account.signed_in:
            self.refresh_earnings()
            self.refresh_jobs()

    def _set_account(self, account: models.AccountState) -> None:
        self.sharing.signed_in = account.signed_in
        if account != self.account:
            self.account = account
            self.account_changed.emit(account)

    # -- account -------------------------------------------------------------------------------

    def login(self, username: str, password: str) -> None:
        self._spawn(self._authenticate(self.session.login, username, password))

    def register(self, username: str, password: str) -> None:
        self._spawn(self._authenticate(self.session.register, username, password))

    async def _authenticate(self, method: Callable, username: str, password: str) -> None:
        try:
            user = await self._rpc(lambda: method(username, password))
        except ClientError as exc:
            log.warning("sign-in failed server=%s: %s", exc.server, exc.message)
            self.auth_result.emit(False, models.problem_from(exc))
            return
        server = self.store.settings.server
        self._set_account(models.AccountState(user.username, server, is_admin=user.is_admin))
        self.auth_result.emit(True, None)
        self.activity.emit(models.ActivityEvent("signed_in", detail=user.username))
        log.info("signed in user=%s server=%s", user.username, server)
        await self.sharing.sync()
        self.refresh_earnings()
        self.refresh_jobs()

    def logout(self) -> None:
        self._spawn(self._logout())

    async def _logout(self) -> None:
        await self.sharing.stop(drain_s=0)
        self.sharing.signed_in = False
        await self.session.logout()
        self._set_account(models.AccountState(server=self.store.settings.server))
        self.activity.emit(models.ActivityEvent("signed_out"))
        self.earnings_loaded.emit(models.EarningsSnapshot())
        self.jobs_loaded.emit([])
        await self.sharing.sync()

    def use_server(self, address: str, tls: bool, ca_file: str, *, check: bool = True) -> None:
        """Points the app at another server: first makes sure a HiveMind server answers there
        (unless `check` is off), so a typo never signs the user out for nothing.
        `server_result` says how it went."""
        address = address.strip()
        try:
            parse_server_addresses(address)  # one address, or replicas: "a:50051, b:50051"
        except ValueError as exc:
            problem = models.Problem(str(exc), "BAD_ADDRESS", server=address)
            self.server_result.emit(False, problem)
            return
        self._spawn(self._use_server(address, tls, ca_file, check))

    async def _use_server(self, address: str, tls: bool, ca_file: str, check: bool) -> None:
        if check:
            try:
                await check_server(address, tls, ca_file, self.store.settings.insecure)
            except ClientError as exc:
                log.warning("server=%s not used: %s", address, exc.message)
                self.server_result.emit(False, models.problem_from(exc, address))
                return
        self.store.update(server=address, tls=tls, ca_file=ca_file)
        log.info("using server=%s tls=%s", address, tls)
        self.server_result.emit(True, None)
        await self._server_changed()

    async def _server_changed(self) -> None:
        await self.sharing.stop(drain_s=0)
        self.sharing.signed_in = False
        self.earnings_loaded.emit(models.EarningsSnapshot())
        self.jobs_loaded.emit([])
        await self._restore_session()

    def set_language(self, code: str) -> None:
        self.store.update(language=code)
        self.language_requested.emit(code)

    def _settings_saved(self, settings: ClientSettings) -> None:
        self.settings_changed.emit(settings)
        if self._started and not self._closing:
            # Sharing on/off and the executor choice take effect at once.
            self._spawn(self.sharing.sync())

    # -- earnings ------------------------------------------------------------------------------

    def refresh_earnings(self) -> None:
        if self.account.signed_in:
            self._spawn(self._load_earnings())

    async def _load_earnings(self) -> None:
        try:
            snapshot = await self._rpc(
                lambda: job_actions.load_earnings(self.session, time_zone=local_time_zone())
            )
        except ClientError as exc:
            log.warning("earnings not loaded: %s", exc.message)
            return
        self.earnings_loaded.emit(snapshot)

    # -- jobs ----------------------------------------------------------------------------------

    def refresh_jobs(self) -> None:
        if self.account.signed_in:
            self._spawn(self._load_jobs())

    async def _load_jobs(self) -> None:
        try:
            jobs = await self._rpc(lambda: job_actions.list_jobs(self.session))
        except ClientError as exc:
            log.warning("jobs not loaded: %s", exc.message)
            return
        for job in jobs:
            before = self._jobs.get(job.job_id)
            if before is not None and not before.finished and job.finished:
                self.activity.emit(
                    models.ActivityEvent("job_finished", job_id=job.job_id, detail=job.state)
                )
        self._jobs = {job.job_id: job for job in jobs}
        active = any(not job.finished for job in jobs)
        self._jobs_timer.setInterval(JOBS_ACTIVE_INTERVAL_MS if active else JOBS_IDLE_INTERVAL_MS)
        self.jobs_loaded.emit(jobs)

    def estimate(self, **resources: Any) -> None:
        if not self.account.signed_in:
            self.estimate_ready.emit(-1, "", None)
            return
        self._spawn(self._estimate(resources))

    async def _estimate(self, resources: dict[str, Any]) -> None:
        try:
            found = await self._rpc(lambda: job_actions.estimate_cost(self.session, **resources))
        except ClientError as exc:
            log.info("no estimate: %s", exc.message)
            self.estimate_ready.emit(-1, "", models.problem_from(exc))
            return
        self.estimate_ready.emit(found.worst_case_ucpt, found.funded_from, None)

    def submit(self, request: models.JobRequest) -> None:
        self._spawn(self._submit(request))

    async def _submit(self, request: models.JobRequest) -> None:
        last_emit = 0.0

        def progress(done: int, total: int) -> None:
            nonlocal last_emit
            now = time.monotonic()
            # At most ~20 updates a second: a fast local upload must not flood the GUI.
            if done >= total or now - last_emit > 0.05:
                last_emit = now
                self.upload_progress.emit(done, total)

        try:
            job = await self._rpc(
                lambda: job_actions.submit_job(
                    self.session, request, self.store.cache_dir / "submit", progress
                )
            )
        except ClientError as exc:
            log.warning("submit failed: %s", exc.message)
            self.submit_finished.emit(False, models.problem_from(exc))
            return
        except Exception as exc:  # package errors, unreadable files: one line for the form
            log.warning("submit failed: %s", exc)
            self.submit_finished.emit(False, models.Problem(str(exc), "PACKAGE"))
            return
        log.info("submitted job=%s tasks=%d", job.job_id, job.tasks_total)
        self._jobs[job.job_id] = job
        self.submit_finished.emit(True, job.job_id)
        self.activity.emit(models.ActivityEvent("job_submitted", job_id=job.job_id))
        self.refresh_jobs()
        self.refresh_earnings()

    def cancel_job(self, job_id: str) -> None:
        self._spawn(self._cancel(job_id))

    async def _cancel(self, job_id: str) -> None:
        try:
            await self._rpc(lambda: job_actions.cancel_job(self.session, job_id))
        except ClientError as exc:
            log.warning("job=%s not cancelled: %s", job_id, exc.message)
            problem = models.problem_from(exc)
            self.activity.emit(
                models.ActivityEvent("error", job_id=job_id, detail=exc.message, problem=problem)
            )
        self.refresh_jobs()
        self.refresh_earnings()

    def load_job_log(self, job_id: str) -> None:
        self._spawn(self._job_log(job_id))

    async def _job_log(self, job_id: str) -> None:
        try:
            logs = await self._rpc(lambda: job_actions.job_logs(self.session, job_id))
        except ClientError as exc:
            log.warning("logs of job=%s not loaded: %s", job_id, exc.message)
            self.job_log_loaded.emit(job_id, [], models.problem_from(exc))
            return
        self.job_log_loaded.emit(job_id, logs, None)

    def load_job_rounds(self, job_id: str) -> None:
        if self.account.signed_in:
            self._spawn(self._job_rounds(job_id))

    async def _job_rounds(self, job_id: str) -> None:
        try:
            rounds = await self._rpc(lambda: job_actions.load_rounds(self.session, job_id))
        except ClientError as exc:
            log.warning("rounds of job=%s not loaded: %s", job_id, exc.message)
            return
        self.job_rounds_loaded.emit(job_id, rounds)

    def download_results(self, job_id: str, folder: str) -> None:
        self._spawn(self._download(job_id, Path(folder)))

    async def _download(self, job_id: str, folder: Path) -> None:
        try:
            await self._rpc(lambda: job_actions.download_results(self.session, job_id, folder))
        except ClientError as exc:
            log.warning("results of job=%s not saved: %s", job_id, exc.message)
            self.results_downloaded.emit(job_id, str(folder), models.problem_from(exc))
            return
        except Exception as exc:  # a full disk, an unsafe archive: say so, keep going
            log.warning("results of job=%s not saved: %s", job_id, exc)
            self.results_downloaded.emit(job_id, str(folder), models.problem_from(exc))
            return
        self.results_downloaded.emit(job_id, str(folder), None)
        self.activity.emit(
            models.ActivityEvent("results_downloaded", job_id=job_id, detail=str(folder))
        )

    # -- sharing -------------------------------------------------------------------------------

    def set_sharing(self, on: bool, *, finish_tasks: bool = False) -> None:
        """Sharing on or off. Turning it off hands the running tasks back to the server at
        once (they run elsewhere, unpaid here), or with `finish_tasks` lets them finish first
        (state STOPPING; `stop_now()` hands back what is left)."""
        if on == self.store.settings.contributor.sharing:
            return
        if on:
            self.sharing.resume_now()
        else:
            self.sharing.drain_on_stop_s = FINISH_TASKS_S if finish_tasks else 0.0
        self.store.update_contributor(sharing=on)
        self.activity.emit(models.ActivityEvent("sharing_on" if on else "sharing_off"))

    def stop_now(self) -> None:
        """While the running tasks finish before sharing stops: hand them back now."""
        self.sharing.stop_now()

    def running_task_count(self) -> int:
        """Tasks this computer works on now: what stopping would hand back."""
        return self.sharing.running_count()

    def pause_for(self, seconds: float) -> None:
        self.sharing.pause_for(seconds)

    def resume_now(self) -> None:
        self.sharing.resume_now()

    @property
    def manually_paused(self) -> bool:
        return self.sharing.manually_paused

    def _sharing_state(self, state: models.SharingState) -> None:
        self.sharing_changed.emit(state)
        self._emit_tasks()

    def _worker_activity(self, event: models.ActivityEvent) -> None:
        self.activity.emit(event)
        if event.kind in ("task_started", "task_finished", "task_failed"):
            self._emit_tasks()
        if event.kind == "payout":
            self._earnings_soon.start()

    def _emit_tasks(self) -> None:
        tasks = self.sharing.running_tasks()
        if tasks != self._last_tasks:
            self._last_tasks = tasks
            self.running_tasks_changed.emit(tasks)

    def set_usage_sampling(self, on: bool) -> None:
        """Live usage is only for the charts: sampled while the window is shown, so an app
        sitting in the tray costs (almost) nothing."""
        if on and not self._closing:
            if not self._usage_timer.isActive():
                self._usage_timer.start()
                self._spawn(self._sample_usage())
        else:
            self._usage_timer.stop()

    async def _sample_usage(self) -> None:
        if self._monitor is None:
            self._monitor = await asyncio.to_thread(
                lambda: UsageMonitor(outside=self.sharing.outside_usage)
            )
            facts = await asyncio.to_thread(_memory_total_mb)
            self._memory_total_mb = facts
        sample = await asyncio.to_thread(self._monitor.sample)
        if self._closing:
            return
        total = max(1, self._memory_total_mb)
        self.usage_sampled.emit(
            models.UsageSample(
                cpu_percent=sample.cpu_percent,
                memory_percent=100 * sample.memory_used_mb / total,
                hivemind_cpu_percent=sample.hivemind_cpu_percent,
                hivemind_memory_percent=100 * sample.hivemind_memory_mb / total,
                memory_total_mb=total,
            )
        )
        self._emit_tasks()

    async def _check_gpu(self) -> None:
        from app.services.gpu import NO_NVIDIA_GPU, detect_gpu_support, detect_gpus

        support = await asyncio.to_thread(detect_gpu_support)
        found = len(await asyncio.to_thread(detect_gpus)) if support.available else 0
        self.gpus_found.emit(found)
        if support.available and not found:
            self.gpu_status.emit(False, NO_NVIDIA_GPU)
        else:
            self.gpu_status.emit(support.available, support.reason)


def local_time_zone() -> str:
    """This computer's IANA time zone ("Asia/Taipei"); "" when the system names none."""
    zone = bytes(QTimeZone.systemTimeZoneId().data()).decode("ascii", "replace")
    return zone if "/" in zone or zone == "UTC" else ""


def _memory_total_mb() -> int:
    import psutil

    return psutil.virtual_memory().total // (1024 * 1024)
