"""A job with rounds in the desktop app: the selected job says which round it is in and what
its aggregate is, and a small chart draws what each round's aggregate measured."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.ui import models

pytestmark = pytest.mark.qt

JOB_ID = "job-0123456789abcdef"


def training_job(**changes) -> models.JobRow:
    fields = {
        "job_id": JOB_ID,
        "name": "train-digits",
        "state": "running",
        "tasks_total": 25,
        "tasks_done": 12,
        "tasks_failed": 0,
        "cost_ucpt": 120_000,
        "max_cost_ucpt": 3_900_000,
        "created_at": 1_700_000_000,
        "rounds": 5,
        "current_round": 2,
        "aggregate_command": ("python3", "aggregate.py", "--rule", "median"),
    }
    return models.JobRow(**{**fields, **changes})


def test_the_selected_job_shows_its_round_and_a_chart_of_its_metrics(
    make_app, qtbot, tmp_path: Path
):
    hivemind = make_app(tmp_path / "home", start=False)
    jobs = hivemind.window.submit.jobs
    jobs.show_jobs([training_job()])
    assert jobs.select_job(JOB_ID)
    assert jobs.detail_label.text() == (
        "Round 3 of 5; aggregate: python3 aggregate.py --rule median"
    )
    assert jobs.round_chart.isHidden()  # nothing measured yet

    hivemind.bridge.job_rounds_loaded.emit(
        JOB_ID,
        [
            models.RoundRow(0, "done", (("accuracy", 0.71), ("loss", 0.9))),
            models.RoundRow(1, "done", (("accuracy", 0.86), ("loss", 0.5))),
            models.RoundRow(2, "running"),
        ],
    )
    assert not jobs.round_chart.isHidden()
    assert jobs.round_chart.series() == [
        ("accuracy", [(0, 0.71), (1, 0.86)]),
        ("loss", [(0, 0.9), (1, 0.5)]),
    ]
    # Rounds of another job (a late answer after the selection moved) change nothing.
    hivemind.bridge.job_rounds_loaded.emit("job-other", [models.RoundRow(0, "done")])
    assert len(jobs.round_chart.series()) == 2

    window = hivemind.window
    window.tabs.setCurrentWidget(hivemind.window.submit)
    window.resize(1120, 860)
    window.show()
    image = jobs.round_chart.grab().toImage()
    assert not image.isNull() and image.height() >= 100
    window.grab().toImage().save(str(tmp_path / "jobs-rounds-en.png"))

    hivemind.languages.apply("zh_TW")
    qtbot.waitUntil(lambda: jobs.detail_label.text().startswith("第 3 輪"))
    assert jobs.detail_label.text() == (
        "第 3 輪（共 5 輪）；彙整指令：python3 aggregate.py --rule median"
    )
    assert jobs.round_chart.title == "每一輪的指標"

    # A job without rounds shows neither.
    jobs.show_jobs([training_job(aggregate_command=(), rounds=1, current_round=0)])
    assert jobs.select_job(JOB_ID)
    assert jobs.detail_label.isHidden() and jobs.round_chart.isHidden()


def test_running_an_aggregate_reads_as_such(make_app, tmp_path: Path):
    from app.services.worker import events as ev

    hivemind = make_app(tmp_path / "home", start=False)
    overview = hivemind.window.overview
    events = ev.WorkerEvents()
    events.subscribe(hivemind.bridge.sharing._on_worker_event)
    ids = {"job_id": JOB_ID, "attempt_id": "att-1", "task_index": -1}

    events.emit(ev.TASK_STARTED, **ids)
    events.emit(ev.TASK_FINISHED, **ids)
    events.emit(ev.PAYOUT, payout_ucpt=2_500, **ids)

    lines = [overview.events_list.item(i).text() for i in range(overview.events_list.count())]
    assert [line.split("  ", 1)[1] for line in reversed(lines)] == [
        f"Started the aggregate of job {JOB_ID[:12]}",
        f"Finished the aggregate of job {JOB_ID[:12]}",
        f"Earned 0.0025 CPT for the aggregate of job {JOB_ID[:12]}",
    ]
