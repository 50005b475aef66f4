"""Comparisons in the desktop app (issue 6): the activity log says when this computer compares
two replicas' results and what it found, running comparisons are marked as such, and a job's
compare command shows where its other settings do."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import pytest

from app.services.worker import events as ev
from app.ui import models
from tests.kit.client_cli import hivemind_cli, worker_command
from tests.kit.paths import EXAMPLES, REPO_ROOT
from tests.ui.homes import register, write_settings

pytestmark = pytest.mark.qt

MONTECARLO = EXAMPLES / "montecarlo"
PI = EXAMPLES / "pi"
JOB_ID = "job-0123456789abcdef"
JOB = JOB_ID[:12]  # the activity log shortens job ids


@pytest.fixture(autouse=True)
def one_machine_network(tmp_path: Path) -> None:
    """Every owner's worker runs on this one machine, so the server (`hivemind_server`, which
    starts after this on tmp_path/server-data) cannot tell their networks apart: a private
    network's setting, in its server.toml (a subprocess server gets none of the test's
    HIVEMIND_SERVER_* variables); tests/security proves the rule from distinct addresses."""
    data_dir = tmp_path / "server-data"
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / "server.toml").write_text("[server]\ndistinct_networks = false\n")


def event_texts(overview) -> list[str]:
    """The recent events, oldest first, without their time stamps."""
    events = overview.events_list
    lines = [events.item(i).text() for i in range(events.count())]
    return [line.split("  ", 1)[1] for line in reversed(lines)]


def test_comparison_events_read_as_comparisons_in_english_and_chinese(
    make_app, qtbot, tmp_path: Path
):
    hivemind = make_app(tmp_path / "home", start=False)
    window = hivemind.window
    overview = window.overview
    # The worker agent's own event fan-out, wired to the app's sharing controller as the
    # agent is when sharing starts.
    events = ev.WorkerEvents()
    events.subscribe(hivemind.bridge.sharing._on_worker_event)
    ids = {"job_id": JOB_ID, "attempt_id": "att-1", "task_index": 2, "comparison": True}

    events.emit(ev.TASK_STARTED, **ids)
    events.emit(ev.TASK_FINISHED, message="results differ", **ids)
    events.emit(ev.PAYOUT, payout_ucpt=2_500, **ids)
    events.emit(ev.TASK_STARTED, **{**ids, "attempt_id": "att-2"})
    events.emit(ev.TASK_FINISHED, message="results equivalent", **{**ids, "attempt_id": "att-2"})
    failed = {**ids, "attempt_id": "att-3", "task_index": 3}
    events.emit(ev.TASK_FAILED, message="compare command: exited with code 2", **failed)
    # An ordinary task of the same job still reads as a task.
    task = {**ids, "attempt_id": "att-4", "task_index": 1, "comparison": False}
    events.emit(ev.TASK_STARTED, **task)
    events.emit(ev.TASK_FINISHED, **task)

    assert event_texts(overview) == [
        f"Comparing results of task 2 of job {JOB}…",
        f"Compared results of task 2 of job {JOB}: different",
        f"Earned 0.0025 CPT for comparing results of task 2 of job {JOB}",
        f"Comparing results of task 2 of job {JOB}…",
        f"Compared results of task 2 of job {JOB}: equivalent",
        f"Comparing results of task 3 of job {JOB} failed: compare command: exited with code 2",
        f"Started task 1 of job {JOB}",
        f"Finished task 1 of job {JOB}",
    ]

    # A comparison running now is marked in "Running tasks".
    now = time.time()
    hivemind.bridge.running_tasks_changed.emit(
        [
            models.RunningTask("att-5", JOB_ID, 4, now - 3, now + 27, 1, 128, comparison=True),
            models.RunningTask("att-6", JOB_ID, 5, now - 20, now + 40, 1, 128),
        ]
    )
    assert overview.tasks_table.item(0, 1).text() == "4 (comparing)"
    assert overview.tasks_table.item(1, 1).text() == "5"

    window.tabs.setCurrentWidget(overview)
    window.resize(1120, 800)
    window.show()
    image = window.grab().toImage()
    assert not image.isNull() and image.width() >= 1000
    image.save(str(tmp_path / "overview-comparison-en.png"))

    hivemind.languages.apply("zh_TW")
    qtbot.waitUntil(lambda: overview.tasks_table.item(0, 1).text() == "4（比對中）")
    texts = event_texts(overview)
    assert texts[0] == f"正在比對工作 {JOB} 中任務 2 的結果…"
    assert texts[1] == f"已比對工作 {JOB} 中任務 2 的結果：不相符"
    assert texts[2] == f"比對工作 {JOB} 中任務 2 的結果，賺得 0.0025 CPT"
    assert texts[4] == f"已比對工作 {JOB} 中任務 2 的結果：相符"
    assert texts[5] == (f"比對工作 {JOB} 中任務 3 的結果失敗：compare command: exited with code 2")
    # The long mixed Chinese/English line wraps onto a second line instead of being cut.
    events = overview.events_list
    failed_row = events.item(events.count() - 1 - 5)
    assert events.visualItemRect(failed_row).height() >= 2 * events.fontMetrics().height()
    window.grab().toImage().save(str(tmp_path / "overview-comparison-zh_TW.png"))


def test_the_submit_tab_shows_the_packages_compare_command(make_app, qtbot, tmp_path: Path):
    hivemind = make_app(tmp_path / "home", start=False)
    submit = hivemind.window.submit
    label = submit.compare_label

    assert submit.load_package(MONTECARLO)
    assert submit.replicas.value() == 2
    assert not label.isHidden()
    assert label.text() == "Compare: python3 compare.py (30 s)"
    # With one replica the command runs only on spot checks: the form says so.
    submit.replicas.setValue(1)
    assert label.text() == (
        "Compare: python3 compare.py (30 s) "
        "With 1 replica, results are compared only when the server spot-checks one."
    )
    submit.replicas.setValue(2)
    window = hivemind.window
    window.tabs.setCurrentWidget(submit)
    window.resize(1120, 800)
    window.show()
    window.grab().toImage().save(str(tmp_path / "submit-form-compare.png"))

    hivemind.languages.apply("zh_TW")
    qtbot.waitUntil(lambda: label.text().startswith("比對指令"))
    assert label.text() == "比對指令：python3 compare.py（每次比對上限 30 秒）"
    hivemind.languages.apply("en")
    qtbot.waitUntil(lambda: label.text().startswith("Compare:"))

    # A package that names no time limit gets the server's default.
    package = shutil.copytree(MONTECARLO, tmp_path / "montecarlo")
    manifest = package / "hivemind.toml"
    manifest.write_text(manifest.read_text().replace("compare_timeout_s = 30\n", ""))
    assert submit.load_package(package)
    assert label.text() == "Compare: python3 compare.py (the server's default time limit)"

    # A package without a compare command shows none.
    assert submit.load_package(PI)
    assert label.isHidden() and label.text() == ""


def test_a_submitted_jobs_compare_command_shows_when_it_is_selected(
    make_app, hivemind_server, qtbot, tmp_path: Path
):
    home = tmp_path / "submitter"
    register(home, hivemind_server, "quinn")
    write_settings(home, hivemind_server)
    hivemind = make_app(home)
    qtbot.waitUntil(lambda: hivemind.bridge.account.signed_in, timeout=15000)
    submit = hivemind.window.submit
    jobs = submit.jobs

    submitted, estimates = {}, {}
    for package in (MONTECARLO, PI):
        with qtbot.waitSignal(hivemind.bridge.estimate_ready, timeout=15000) as estimate:
            assert submit.load_package(package)
            submit.task_count.setValue(1)
        estimates[package.name] = estimate.args[0]
        with qtbot.waitSignal(hivemind.bridge.submit_finished, timeout=30000) as done:
            submit.submit_button.click()
        ok, job_id = done.args
        assert ok, job_id
        submitted[package.name] = job_id
    qtbot.waitUntil(
        lambda: {row.job_id for row in jobs.rows} >= set(submitted.values()), timeout=15000
    )
    # "At most …" is what submitting holds in escrow, comparisons included.
    held = {row.job_id: row.max_cost_ucpt for row in jobs.rows}
    assert held[submitted["montecarlo"]] == estimates["montecarlo"] > 0
    assert held[submitted["pi"]] == estimates["pi"] > 0

    assert jobs.select_job(submitted["montecarlo"])
    assert not jobs.detail_label.isHidden()
    # The time limit is the server's record of the job, as the CLI's `job status` shows it.
    assert jobs.detail_label.text() == "Compare: python3 compare.py (30 s)"
    window = hivemind.window
    window.tabs.setCurrentWidget(submit)
    window.resize(1120, 800)
    window.show()
    window.grab().toImage().save(str(tmp_path / "submit-compare.png"))
    # examples/pi merges on the network: a job with one round and an aggregate.
    assert jobs.select_job(submitted["pi"])
    assert jobs.detail_label.text() == "Round 1 of 1; aggregate: python3 merge.py"


def _run_replica_worker(server, home: Path, log_path: Path) -> subprocess.Popen:
    """Another contributor's machine: `hivemind worker run --once`, one task, then it exits."""
    argv, env = worker_command(
        home, server.address, "--once", "--max-tasks", "1", "--no-bittorrent"
    )
    with open(log_path, "wb") as log:
        return subprocess.Popen(argv, cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)


def test_the_apps_worker_compares_two_replicas_and_says_so(
    make_app, hivemind_server, qtbot, tmp_path: Path
):
    # Sam submits one Monte Carlo task (two replicas that never match byte for byte); Bob's
    # and Carol's workers run one replica each; then the app of Dave, a third owner, shares
    # and is the only node allowed to compare the two results.
    submitter = tmp_path / "sam"
    register(submitter, hivemind_server, "sam")
    job = hivemind_cli(
        submitter, "job", "submit", str(MONTECARLO), "--tasks", "1",
        "--server", hivemind_server.address,
    )  # fmt: skip
    workers = []
    for name in ("bob", "carol"):
        register(tmp_path / name, hivemind_server, name)
        log_path = tmp_path / f"{name}-worker.log"
        workers.append((_run_replica_worker(hivemind_server, tmp_path / name, log_path), log_path))
    for process, log_path in workers:
        try:
            assert process.wait(90) == 0, log_path.read_text(errors="replace")
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()

    home = tmp_path / "dave"
    register(home, hivemind_server, "dave")
    write_settings(home, hivemind_server, sharing=True)
    hivemind = make_app(home)
    overview = hivemind.window.overview
    job_text = job["job_id"][:12]
    verdict = f"Compared results of task 0 of job {job_text}: equivalent"
    qtbot.waitUntil(lambda: verdict in event_texts(overview), timeout=60000)
    texts = event_texts(overview)
    assert f"Comparing results of task 0 of job {job_text}…" in texts
    assert not any(text.startswith("Started task") for text in texts)  # it ran no replica
    qtbot.waitUntil(
        lambda: any(
            text.startswith("Earned ")
            and text.endswith(f"for comparing results of task 0 of job {job_text}")
            for text in event_texts(overview)
        ),
        timeout=20000,
    )
    # The two equivalent results make the quorum: the submitter's job is done.
    qtbot.waitUntil(
        lambda: (
            hivemind_cli(
                submitter, "job", "status", job["job_id"], "--server", hivemind_server.address
            )["state"]
            == "done"
        ),
        timeout=30000,
    )
