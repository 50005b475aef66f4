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


def test_the_graphics_card_switch_and_how_many_to_share(make_app, qtbot, tmp_path: Path):
    hivemind = make_app(tmp_path / "home", start=False)
    resources, bridge = hivemind.window.resources, hivemind.bridge
    store = hivemind.store
    # What the bridge's check says on a machine with two GPUs and the NVIDIA runtime.
    bridge.gpus_found.emit(2)
    bridge.gpu_status.emit(True, "")
    assert resources.gpu.isEnabled() and not resources.gpu_count.isEnabled()
    resources.gpu.setChecked(True)
    assert store.settings.contributor.gpu is True
    assert resources.gpu_count.isEnabled()
    assert resources.gpu_count.text() == "All of them"  # 0: every GPU
    resources.gpu_count.setValue(1)
    assert store.settings.contributor.gpus == 1  # the worker lends one (tests/worker)

    # A machine with the runtime and no NVIDIA GPU: the switch is off and says why.
    bridge.gpus_found.emit(0)
    bridge.gpu_status.emit(False, "no NVIDIA GPU found")
    assert not resources.gpu.isEnabled() and not resources.gpu.isChecked()
    assert resources.gpu_count.isHidden()
    assert resources.gpu_reason.text() == "Not available: no NVIDIA graphics card was found"
    hivemind.languages.apply("zh_TW")
    qtbot.waitUntil(lambda: "NVIDIA 顯示卡" in resources.gpu_reason.text())
    assert resources.gpu_reason.text().endswith("找不到 NVIDIA 顯示卡")
