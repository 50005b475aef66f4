"""Submitting examples/pi from the Submit tab and following it to done, with a real worker
(the CLI's, another contributor's machine) running the tasks."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from PySide6.QtWidgets import QFileDialog

from app.ui.views.jobs_table import LogDialog
from tests.kit.client_cli import worker_command
from tests.kit.paths import EXAMPLES, REPO_ROOT
from tests.ui.homes import register, write_settings

pytestmark = pytest.mark.qt

PI = EXAMPLES / "pi"


def pi_merged_by_hand(tmp_path: Path) -> Path:
    """examples/pi without its aggregate: one contributor's worker runs every task (the merge
    on nodes of two owners is in tests/worker/test_worker_rounds.py and the demo)."""
    package = shutil.copytree(PI, tmp_path / "pi")
    manifest = package / "hivemind.toml"
    lines = manifest.read_text().splitlines(keepends=True)
    manifest.write_text("".join(line for line in lines if not line.startswith(("rounds", "agg"))))
    return package


@pytest.fixture
def cli_worker(hivemind_server, tmp_path: Path):
    """Another contributor's worker: `hivemind worker run` in its own process and home."""
    home = tmp_path / "worker-home"
    register(home, hivemind_server, "wendy")
    argv, env = worker_command(home, hivemind_server.address)
    log = open(tmp_path / "worker.log", "wb")  # noqa: SIM115 - closed after the process
    process = subprocess.Popen(
        argv,
        cwd=REPO_ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    yield process
    process.terminate()
    try:
        process.wait(15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    log.close()


def test_submit_examples_pi_and_watch_it_finish(
    make_app, hivemind_server, cli_worker, qtbot, tmp_path: Path, monkeypatch
):
    home = tmp_path / "submitter"
    register(home, hivemind_server, "ivy")
    write_settings(home, hivemind_server)
    hivemind = make_app(home)
    qtbot.waitUntil(lambda: hivemind.bridge.account.signed_in, timeout=15000)
    submit = hivemind.window.submit
    hivemind.window.tabs.setCurrentWidget(submit)

    # What choosing the folder in "Folder…" does.
    assert submit.load_package(pi_merged_by_hand(tmp_path))
    assert submit.name.text() == "pi"
    assert submit.command.text() == "python3 main.py"
    assert submit.task_count.value() == 8
    submit.task_count.setValue(3)
    # The live estimate, from the server's rates: 3 tasks x 1 core x 60 s at 10 CPT per
    # core-hour is 0.5 CPT before bonuses; the worst case includes the largest bonuses.
    # A new account holds starter credit only, so the line says it pays.
    estimate = re.compile(
        r"Holds up to (\d+(\.\d+)?) CPT until the job ends: the worst case, where every task, "
        r"replica and comparison uses its whole time limit\. What is not spent is refunded\. "
        r"Paid from your starter credit: the job runs only on capacity no paid job wants\."
    )
    shown: list[re.Match] = []
    qtbot.waitUntil(
        lambda: (
            shown.append(estimate.fullmatch(submit.estimate_label.text())) or shown[-1] is not None
        ),
        timeout=10000,
    )
    worst_case = float(shown[-1].group(1))
    assert 0.5 <= worst_case < 1.5
    submit.max_cost.setText("0.1")
    qtbot.waitUntil(lambda: "below that" in submit.estimate_label.text(), timeout=10000)
    submit.max_cost.setText("")

    with qtbot.waitSignal(hivemind.bridge.submit_finished, timeout=30000) as submitted:
        submit.submit_button.click()
    ok, job_id = submitted.args
    assert ok, job_id
    assert submit.status_label.text() == f"Submitted job {job_id}."

    jobs = submit.jobs
    qtbot.waitUntil(lambda: any(row.job_id == job_id for row in jobs.rows), timeout=10000)
    qtbot.waitUntil(
        lambda: jobs.table.item(0, 2) is not None and jobs.table.item(0, 2).text() == "done",
        timeout=90000,
    )
    bar = jobs.table.cellWidget(0, 3)
    assert (bar.value(), bar.maximum()) == (3, 3)
    assert jobs.table.item(0, 1).text() == job_id
    # Escrow is refunded when the job ends: the cost is what the tasks really used.
    row = jobs.rows[0]
    assert 0 < row.cost_ucpt < 500_000

    jobs.select_job(job_id)
    with qtbot.waitSignal(hivemind.bridge.job_log_loaded, timeout=15000):
        jobs.logs_button.click()
    dialog = jobs.log_dialog
    assert isinstance(dialog, LogDialog)
    assert "task 2: " in dialog.text.toPlainText()
    assert "points inside" in dialog.text.toPlainText()
    dialog.close()

    # A native folder dialog cannot be clicked offscreen: answer it as the user would.
    results = tmp_path / "results"
    results.mkdir()
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(results))
    with qtbot.waitSignal(hivemind.bridge.results_downloaded, timeout=30000) as saved:
        jobs.download_button.click()
    assert saved.args == [job_id, str(results), None]
    for index in range(3):
        result = json.loads((results / str(index) / "result.json").read_text())
        assert result["task"] == index and result["samples"] > 0
        assert "points inside" in (results / str(index) / "log.txt").read_text()
