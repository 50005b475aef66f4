"""A job waiting for a GPU says so in the app's job list, in English and in Chinese (the
server's reason comes through job_actions.list_jobs: tests/worker/test_worker_gpus.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.ui import models

pytestmark = pytest.mark.qt

JOB_ID = "job-0123456789abcdef"


def test_a_job_waiting_for_a_gpu_says_why(make_app, qtbot, tmp_path: Path):
    hivemind = make_app(tmp_path / "home", start=False)
    jobs = hivemind.window.submit.jobs
    row = models.JobRow(
        job_id=JOB_ID,
        name="train",
        state="pending",
        tasks_total=2,
        tasks_done=0,
        tasks_failed=0,
        cost_ucpt=0,
        max_cost_ucpt=1_000_000,
        created_at=1_700_000_000,
        gpus=1,
        waiting="no node with a free GPU is online",
    )
    jobs.show_jobs([row])
    state = jobs.table.item(0, 2)
    assert state.text() == "waiting: no node with a free GPU is online"

    hivemind.languages.apply("zh_TW")
    qtbot.waitUntil(lambda: jobs.table.item(0, 2).text().startswith("等待中"))
    assert jobs.table.item(0, 2).text() == "等待中：沒有空閒 GPU 的節點在線上"

    jobs.show_jobs([models.JobRow(**{**row.__dict__, "waiting": ""})])
    assert jobs.table.item(0, 2).text() == "等待中"  # an ordinary pending job
