"""The app's own widgets and pieces, offscreen, without a network: the week schedule, the
charts, CSV export, start at login from the Account tab, the smoke test (the first-run setup:
test_first_run.py)."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, Qt

from app.services.settings import ScheduleWindow
from app.ui import models
from app.ui.partials.charts import BarChart, LineChart
from app.ui.partials.schedule_editor import ScheduleEditor, grid_to_windows, windows_to_grid
from tests.kit.paths import REPO_ROOT, python_env

pytestmark = pytest.mark.qt


def test_schedule_grid_round_trips_windows():
    windows = [
        ScheduleWindow(days=[0, 1, 2, 3, 4], start="18:00", end="24:00"),
        ScheduleWindow(days=[5, 6], start="00:00", end="24:00"),
    ]
    grid = windows_to_grid(windows)
    assert grid[0][17] is False and grid[0][18] is True and grid[4][23] is True
    assert all(grid[6])
    assert grid_to_windows(grid) == windows
    # A window ending mid-hour covers that hour; one crossing midnight wraps.
    grid = windows_to_grid([ScheduleWindow(days=[2], start="22:00", end="06:30")])
    assert grid[2][22] and grid[2][23] and grid[2][0] and grid[2][6] and not grid[2][7]


def test_dragging_across_the_schedule_marks_hours(qtbot):
    editor = ScheduleEditor()
    qtbot.addWidget(editor)
    editor.resize(46 + 24 * 20, 18 + 7 * 20)
    editor.set_windows([])
    editor.show()
    # Press on Monday 09:00, drag to 11:00, release: three hours on.
    y = 18 + 10
    with qtbot.waitSignal(editor.changed) as changed:
        qtbot.mousePress(editor, Qt.LeftButton, pos=QPoint(46 + 9 * 20 + 5, y))
        qtbot.mouseMove(editor, QPoint(46 + 11 * 20 + 5, y))
        qtbot.mouseRelease(editor, Qt.LeftButton, pos=QPoint(46 + 11 * 20 + 5, y))
    assert changed.args[0] == [ScheduleWindow(days=[0], start="09:00", end="12:00")]


def test_charts_paint_their_data(qtbot):
    line = LineChart(capacity=10)
    line.add_series("#3d7edb")
    line.set_series_name(0, "This computer")
    for value in (10, 50, 150, -5):
        line.add_sample([value])
    assert line.latest(0) == 0  # clamped to 0..100
    bars = BarChart()
    bars.value_text = models.cpt
    bars.set_bars([("2026-01-01", 0), ("2026-01-02", 1_500_000)])
    for chart in (line, bars):
        qtbot.addWidget(chart)
        chart.resize(400, 200)
        image = chart.grab().toImage()
        assert not image.isNull()
    # The tall bar is drawn in the bar colour near the bottom right of the plot.
    image = bars.grab().toImage()
    assert image.pixelColor(image.width() - 40, image.height() - 30) == bars.color


def test_a_day_that_gave_back_more_than_it_earned_hangs_below_zero(qtbot):
    # A clawback (a caught node's discarded results) can make a day's net earnings negative.
    bars = BarChart()
    bars.value_text = models.cpt
    bars.set_bars([("2026-01-01", 2_000_000), ("2026-01-02", -1_000_000)])
    qtbot.addWidget(bars)
    bars.resize(400, 200)
    image = bars.grab().toImage()
    plot = bars._plot_rect()
    zero_y = plot.top() + plot.height() * 2 / 3
    middle = lambda i: int(plot.left() + plot.width() / 2 * (i + 0.5))  # noqa: E731
    # The earning day rises above the zero line, the other hangs below it in its own colour.
    assert image.pixelColor(middle(0), int(zero_y - 10)) == bars.color
    assert image.pixelColor(middle(0), int(zero_y + 10)) != bars.color
    assert image.pixelColor(middle(1), int(zero_y + 10)) == bars.negative_color
    assert image.pixelColor(middle(1), int(zero_y - 10)) != bars.negative_color
    # Both ends of the axis are labelled, so the room on the left fits the negative amount.
    assert plot.left() >= bars.fontMetrics().horizontalAdvance(models.cpt(-1_000_000))


def test_payouts_csv_has_exact_amounts():
    rows = [
        models.PayoutRow(
            at=1_767_225_600,
            job_id="job-1",
            core_seconds=12.3456,
            base_ucpt=34_293,
            bonus_ucpt=0,
            amount_ucpt=34_293,
        )
    ]
    table = list(csv.DictReader(io.StringIO(models.payouts_csv(rows))))
    assert table == [
        {
            "time_utc": "2026-01-01T00:00:00Z",
            "job_id": "job-1",
            "job_name": "",
            "task_index": "",
            "core_seconds": "12.346",
            "base_ucpt": "34293",
            "bonus_ucpt": "0",
            "amount_ucpt": "34293",
            "amount_cpt": "0.034293",
        }
    ]


def test_export_csv_from_the_earnings_tab(make_app, tmp_path: Path, qtbot):
    hivemind = make_app(tmp_path / "home", start=False)
    earnings = hivemind.window.earnings
    payout = models.PayoutRow(time.time(), "job-9", 3.0, 8_333, 0, 8_333)
    hivemind.bridge.earnings_loaded.emit(
        models.EarningsSnapshot(balance_ucpt=8_333, today_ucpt=8_333, payouts=(payout,))
    )
    assert earnings.payouts_table.rowCount() == 1
    assert earnings.export_button.isEnabled()
    target = tmp_path / "payouts.csv"
    earnings.export_csv(target)
    assert "job-9" in target.read_text() and "0.008333" in target.read_text()
    assert earnings.status_label.text() == f"Saved {target}"


def test_start_at_login_from_the_account_tab(make_app, tmp_path: Path):
    from app.ui.autostart import XdgAutostart

    autostart = XdgAutostart(tmp_path / "xdg")
    hivemind = make_app(tmp_path / "home", start=False, autostart=autostart)
    checkbox = hivemind.window.account.start_at_login
    assert not checkbox.isChecked()
    checkbox.click()
    assert autostart.path.exists()
    assert "--background" in autostart.path.read_text()
    checkbox.click()
    assert not autostart.path.exists()


def test_smoke_test_command_exits_0_within_10_seconds(tmp_path: Path):
    env = python_env(QT_QPA_PLATFORM="offscreen", HIVEMIND_HOME=str(tmp_path / "untouched"))
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "app.cli.main", "app", "--smoke-test"],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO_ROOT,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert time.monotonic() - started < 10
    assert "smoke test ok: 5 tabs" in done.stdout
    assert "no tray: window fallback" in done.stdout
    assert not (tmp_path / "untouched").exists()  # it used a throw-away home


def test_notifications_are_rate_limited_and_summed(make_app, tmp_path: Path, qtbot):
    hivemind = make_app(tmp_path / "home", start=False)
    tray, bridge = hivemind.tray, hivemind.bridge
    tray.notify_interval_s = 1.0
    shown: list[str] = []
    tray.notified.connect(lambda _title, text: shown.append(text))

    bridge.activity.emit(models.ActivityEvent("payout", amount_ucpt=1_000_000))
    qtbot.waitUntil(lambda: len(shown) == 1)
    assert shown == ["Earned 1 CPT from 1 task"]
    # A burst right after waits for the interval, then comes as one notification.
    for _ in range(3):
        bridge.activity.emit(models.ActivityEvent("payout", amount_ucpt=500_000))
    qtbot.wait(200)
    assert len(shown) == 1
    qtbot.waitUntil(lambda: len(shown) == 2, timeout=3000)
    assert shown[1] == "Earned 1.5 CPT from 3 tasks"

    bridge.activity.emit(models.ActivityEvent("job_finished", job_id="job-abc", detail="done"))
    qtbot.waitUntil(lambda: len(shown) == 3)
    assert shown[2] == "Your job job-abc is done"
    # Other activity (tasks starting, sharing on) never pops up a notification.
    bridge.activity.emit(models.ActivityEvent("task_started", job_id="job-abc", task_index=1))
    qtbot.wait(100)
    assert len(shown) == 3


def test_payout_notifications_count_comparisons_apart(make_app, tmp_path: Path, qtbot):
    hivemind = make_app(tmp_path / "home", start=False)
    tray, bridge = hivemind.tray, hivemind.bridge
    tray.notify_interval_s = 0.5
    shown: list[str] = []
    tray.notified.connect(lambda _title, text: shown.append(text))

    def paid(*comparisons: bool) -> None:
        for comparison in comparisons:
            event = models.ActivityEvent("payout", amount_ucpt=500_000, comparison=comparison)
            bridge.activity.emit(event)

    paid(True)
    qtbot.waitUntil(lambda: len(shown) == 1)
    assert shown[0] == "Earned 0.5 CPT from 1 comparison"
    paid(False, True, False, False, True)  # summed into the next notification
    qtbot.waitUntil(lambda: len(shown) == 2, timeout=3000)
    assert shown[1] == "Earned 2.5 CPT from 3 tasks and 2 comparisons"

    hivemind.languages.apply("zh_TW")
    paid(False, True)
    qtbot.waitUntil(lambda: len(shown) == 3, timeout=3000)
    assert shown[2] == "從 1 個任務和 1 次比對賺得 1 CPT"
    paid(True, True)
    qtbot.waitUntil(lambda: len(shown) == 4, timeout=3000)
    assert shown[3] == "從 2 次比對賺得 1 CPT"


def test_the_estimate_line_joins_sentences_as_each_language_does():
    from app.ui.texts import sentences

    assert sentences("Holds up to 1 CPT.", "") == "Holds up to 1 CPT."
    assert sentences("Holds up to 1 CPT.", "Your maximum is below that.") == (
        "Holds up to 1 CPT. Your maximum is below that."
    )
    assert sentences("最多保留 1 CPT。", "你設定的上限低於此金額。") == (
        "最多保留 1 CPT。你設定的上限低於此金額。"
    )
