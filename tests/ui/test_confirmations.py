"""What loses work or money asks first: stopping sharing or quitting while tasks run (finish
them, or hand them back to the server, which then counts no failure), cancelling a job,
logging out. The first test runs a real worker inside the app against a real server."""

from __future__ import annotations

import textwrap
import time
from pathlib import Path

import pytest

from app.ui import models
from tests.kit.client_cli import hivemind_cli
from tests.ui.homes import register, write_settings

pytestmark = pytest.mark.qt

SLOW_TASK = """
import os, time
time.sleep(5)
open(os.path.join(os.environ["HIVEMIND_OUTPUT"], "done.txt"), "w").write("done")
"""


def _slow_package(folder: Path) -> Path:
    folder.mkdir()
    (folder / "main.py").write_text(textwrap.dedent(SLOW_TASK))
    (folder / "hivemind.toml").write_text(
        '[job]\nname = "slow"\nruntime = "python-3.11"\ncommand = ["python3", "main.py"]\n'
        "tasks = 1\n\n[resources]\ncores = 1\nmemory_mb = 128\ntimeout_s = 60\n"
    )
    return folder


def _status(submitter: Path, server, job_id: str) -> dict:
    return hivemind_cli(submitter, "job", "status", job_id, "--server", server.address)


def test_stopping_while_a_task_runs_hands_it_back_or_finishes_it(
    make_app, hivemind_server, qtbot, tmp_path: Path
):
    home = tmp_path / "contributor"
    register(home, hivemind_server, "rita")
    write_settings(home, hivemind_server, sharing=True)
    hivemind = make_app(home)
    bridge, window, tray = hivemind.bridge, hivemind.window, hivemind.tray
    qtbot.waitUntil(lambda: bridge.sharing_state.state == models.SHARING, timeout=20000)
    submitter = tmp_path / "submitter"
    register(submitter, hivemind_server, "sam")
    job = hivemind_cli(
        submitter,
        "job",
        "submit",
        str(_slow_package(tmp_path / "slow")),
        "--server",
        hivemind_server.address,
    )
    qtbot.waitUntil(lambda: bridge.running_task_count() == 1, timeout=30000)

    # The tray switch asks first; "Hand them back now" returns the task to the server.
    tray.share_action.trigger()
    question = window.question
    assert question is not None and question.box.text() == "This computer is running 1 task."
    assert bridge.store.settings.contributor.sharing  # nothing happened yet
    question.buttons["hand_back"].click()
    qtbot.waitUntil(lambda: bridge.sharing_state.state == models.OFF, timeout=20000)
    status = _status(submitter, hivemind_server, job["job_id"])
    assert status["tasks"][0]["state"] == "pending"  # back in the queue
    assert status["tasks_failed"] == 0  # and no failure counted
    events = window.overview.events_list
    texts = [events.item(i).text() for i in range(events.count())]
    assert any("Handed back task 0 of job" in text for text in texts), texts

    # Again, and this time the task finishes first; the overview says so meanwhile.
    tray.share_action.trigger()
    qtbot.waitUntil(lambda: bridge.running_task_count() == 1, timeout=30000)
    tray.share_action.trigger()
    window.question.buttons["finish"].click()
    qtbot.waitUntil(lambda: bridge.sharing_state.state == models.STOPPING, timeout=5000)
    assert window.overview.state_label.text() == "Stopping: finishing 1 task first…"
    assert window.overview.share_button.text() == "Hand them back now"
    qtbot.waitUntil(lambda: bridge.sharing_state.state == models.OFF, timeout=30000)
    assert _status(submitter, hivemind_server, job["job_id"])["state"] == "done"


def test_cancel_job_asks_and_says_what_it_costs(make_app, tmp_path: Path, monkeypatch):
    hivemind = make_app(tmp_path / "home", start=False)
    jobs = hivemind.window.submit.jobs
    cancelled: list[str] = []
    monkeypatch.setattr(hivemind.bridge, "cancel_job", cancelled.append)
    row = models.JobRow("job-7", "render", "running", 4, 1, 0, 250_000, 2_000_000, 0)
    hivemind.bridge.jobs_loaded.emit([row])
    jobs.table.selectRow(0)
    jobs.cancel_button.click()
    box = jobs.question.box
    assert box.text() == "Cancel render?"
    assert box.informativeText().startswith(
        "Its 3 unfinished tasks stop, and none of them will run again. What it has used so "
        "far (0.25 CPT) stays spent; the rest of the 2 CPT held for it comes back"
    )
    jobs.question.buttons["keep"].click()
    assert cancelled == []
    jobs.cancel_button.click()
    jobs.question.buttons["cancel_job"].click()
    assert cancelled == ["job-7"]


def test_log_out_and_quit_ask_while_tasks_run(make_app, qtbot, tmp_path: Path, monkeypatch):
    hivemind = make_app(tmp_path / "home", start=False)
    bridge, account = hivemind.bridge, hivemind.window.account
    logged_out: list[bool] = []
    monkeypatch.setattr(bridge, "logout", lambda: logged_out.append(True))
    # Two tasks run on this computer (FAKE count: the first test runs real ones).
    monkeypatch.setattr(bridge, "running_task_count", lambda: 2)
    bridge.account_changed.emit(models.AccountState("rita", "127.0.0.1:1"))
    account.logout_button.click()
    assert account.question.box.informativeText().startswith(
        "This computer is running 2 tasks. They are handed back"
    )
    account.question.box.reject()  # Escape
    assert logged_out == []
    account.logout_button.click()
    account.question.buttons["go"].click()
    assert logged_out == [True]

    hivemind.tray.quit_action.trigger()
    question = hivemind.window.question
    assert question.box.windowTitle() == "Quit HiveMind?"
    started = time.monotonic()
    question.buttons["hand_back"].click()
    qtbot.waitUntil(hivemind.finished.is_set, timeout=10000)
    assert time.monotonic() - started < 5  # no task of its own waits: it quits at once
