"""The bridge's server requests for the Earnings and Submit tabs: earnings, jobs, estimates,
submitting, logs, results. A mixin of `Bridge` (one object, one set of signals) kept in its
own module so each file stays readable; it uses the bridge's signals, `_spawn` and `_rpc`.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

from app.services.client.session import ClientError
from app.ui import job_actions, models

log = logging.getLogger("app.ui.bridge")

JOBS_ACTIVE_INTERVAL_MS = 2000
JOBS_IDLE_INTERVAL_MS = 30_000


class JobActionsMixin:
    """Needs from the bridge: session, store, account, _jobs, _jobs_timer, _spawn, _rpc and
    the signals earnings_loaded, jobs_loaded, estimate_ready, upload_progress,
    submit_finished, job_log_loaded, results_downloaded, activity."""

    # -- earnings ------------------------------------------------------------------------------

    def refresh_earnings(self) -> None:
        if self.account.signed_in:
            self._spawn(self._load_earnings())

    async def _load_earnings(self) -> None:
        try:
            snapshot = await self._rpc(lambda: job_actions.load_earnings(self.session))
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
            self.estimate_ready.emit(-1, "")
            return
        self._spawn(self._estimate(resources))

    async def _estimate(self, resources: dict[str, Any]) -> None:
        try:
            ucpt = await self._rpc(lambda: job_actions.estimate_cost(self.session, **resources))
        except ClientError as exc:
            self.estimate_ready.emit(-1, exc.message)
            return
        self.estimate_ready.emit(ucpt, "")

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
            self.submit_finished.emit(False, exc.message)
            return
        except Exception as exc:  # package errors, unreadable files: one line for the form
            log.warning("submit failed: %s", exc)
            self.submit_finished.emit(False, str(exc))
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
            self.activity.emit(models.ActivityEvent("error", job_id=job_id, detail=exc.message))
        self.refresh_jobs()
        self.refresh_earnings()

    def load_job_log(self, job_id: str) -> None:
        self._spawn(self._job_log(job_id))

    async def _job_log(self, job_id: str) -> None:
        try:
            text = await self._rpc(lambda: job_actions.job_logs(self.session, job_id))
        except ClientError as exc:
            text = exc.message
        self.job_log_loaded.emit(job_id, text)

    def download_results(self, job_id: str, folder: str) -> None:
        self._spawn(self._download(job_id, Path(folder)))

    async def _download(self, job_id: str, folder: Path) -> None:
        try:
            await self._rpc(lambda: job_actions.download_results(self.session, job_id, folder))
        except ClientError as exc:
            self.results_downloaded.emit(job_id, str(folder), exc.message)
            return
        except Exception as exc:  # a full disk, an unsafe archive: say so, keep going
            log.warning("results of job=%s not saved: %s", job_id, exc)
            self.results_downloaded.emit(job_id, str(folder), str(exc))
            return
        self.results_downloaded.emit(job_id, str(folder), "")
        self.activity.emit(
            models.ActivityEvent("results_downloaded", job_id=job_id, detail=str(folder))
        )
