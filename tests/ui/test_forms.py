"""Small things a person notices in the forms: a package path that can be typed, pasted or
dropped, a CSV export that ends in .csv, job actions that follow the chosen row, and a
"Sign in…" button where signing in is the next step. Offscreen, no network."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QFileDialog

from app.ui import models
from tests.kit.paths import REPO_ROOT

pytestmark = pytest.mark.qt

PI = REPO_ROOT / "examples" / "pi"


def test_a_package_path_can_be_typed_or_dropped(make_app, qtbot, tmp_path: Path):
    hivemind = make_app(tmp_path / "home", start=False)
    submit = hivemind.window.submit
    assert not submit.package_path.isReadOnly()
    submit.package_path.setText(str(tmp_path / "nowhere"))
    qtbot.keyClick(submit.package_path, Qt.Key_Return)
    assert submit.status_label.text() == f"There is no folder or zip at {tmp_path / 'nowhere'}."
    submit.package_path.setText(str(PI))
    qtbot.keyClick(submit.package_path, Qt.Key_Return)
    assert submit.name.text() == "pi" and submit.status_label.text() == ""

    # A folder dragged from the file manager and dropped on the tab.
    submit.name.setText("")
    hivemind.window.show()
    hivemind.window.tabs.setCurrentWidget(submit)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(PI))])
    enter = QDragEnterEvent(QPoint(10, 10), Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)
    QApplication.sendEvent(submit, enter)
    assert enter.isAccepted()
    drop = QDropEvent(QPointF(10, 10), Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)
    QApplication.sendEvent(submit, drop)
    assert drop.isAccepted() and submit.name.text() == "pi"


def test_csv_export_adds_the_extension(make_app, tmp_path: Path, monkeypatch):
    hivemind = make_app(tmp_path / "home", start=False)
    earnings = hivemind.window.earnings
    payout = models.PayoutRow(time.time(), "job-9", 3.0, 8_333, 0, 8_333)
    hivemind.bridge.earnings_loaded.emit(models.EarningsSnapshot(payouts=(payout,)))
    chosen = tmp_path / "my payouts"  # typed without an extension
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(chosen), ""))
    earnings.export_button.click()
    assert (tmp_path / "my payouts.csv").read_text().startswith("time_utc,")


def test_job_actions_follow_the_row_with_the_focus(make_app, qtbot, tmp_path: Path):
    hivemind = make_app(tmp_path / "home", start=False)
    jobs = hivemind.window.submit.jobs
    now = int(time.time())
    rows = [
        models.JobRow("job-1", "render", "running", 3, 1, 0, 10, 100, now),
        models.JobRow("job-2", "pi", "done", 3, 3, 0, 10, 100, now),
    ]
    hivemind.bridge.jobs_loaded.emit(rows)
    assert not jobs.cancel_button.isEnabled()
    assert jobs.cancel_button.toolTip() == "Select a job in the list first."
    jobs.table.setCurrentCell(0, 0)
    assert jobs.selected_job().job_id == "job-1" and jobs.cancel_button.isEnabled()
    hivemind.bridge.jobs_loaded.emit(rows)  # the periodic refresh keeps the choice
    assert jobs.selected_job().job_id == "job-1" and jobs.logs_button.isEnabled()
    jobs.table.setCurrentCell(1, 1)
    assert not jobs.cancel_button.isEnabled() and jobs.download_button.isEnabled()
    assert jobs.cancel_button.toolTip() == "This job has ended."


def test_sharing_without_a_sign_in_offers_to_sign_in(make_app, tmp_path: Path):
    hivemind = make_app(tmp_path / "home", start=False)
    window = hivemind.window
    overview = window.overview
    overview.show_state(models.SharingState(models.OFFLINE, "not signed in"))
    assert overview.state_label.text() == "Offline: sign in on the Account tab to share"
    assert overview.share_button.text() == "Sign in…"
    assert overview.pause_button.isHidden()
    overview.share_button.click()
    assert window.tabs.currentWidget() is window.account
    assert hivemind.store.settings.contributor.sharing is False  # nothing else changed
