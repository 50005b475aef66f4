"""Usable from the keyboard and a screen reader, and nothing cut off: every control is named
by its label (with a mnemonic), the schedule grid works with the arrow keys and Space, the
charts say in words what they show, and at the smallest window size, in both languages, no
line of text is cut off. Offscreen, no network."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QComboBox,
    QLabel,
    QLineEdit,
    QListWidget,
    QSlider,
    QTableWidget,
    QWidget,
)

from app.services.settings import ScheduleWindow
from app.ui import models
from app.ui.partials.schedule_editor import ScheduleEditor, schedule_summary
from app.ui.window import MINIMUM_SIZE

pytestmark = pytest.mark.qt

CONTROLS = (QSlider, QLineEdit, QComboBox, QAbstractSpinBox, QListWidget, QTableWidget)


def _controls(root):
    for widget in root.findChildren(QWidget):
        if not isinstance(widget, CONTROLS) or not widget.isVisibleTo(root):
            continue
        if isinstance(widget, QLineEdit) and isinstance(widget.parent(), QAbstractSpinBox):
            continue  # a spin box's own editor: the spin box is the control
        if isinstance(widget, QLineEdit) and isinstance(widget.parent(), QComboBox):
            continue
        yield widget


def test_every_control_is_named_and_labels_have_mnemonics(make_app, tmp_path):
    hivemind = make_app(tmp_path / "home", start=False)
    window = hivemind.window
    window.show()
    for index in range(window.tabs.count()):
        window.tabs.setCurrentIndex(index)
        page = window.tabs.widget(index)
        controls = list(_controls(page))
        assert controls or index in (0, 2), window.tabs.tabText(index)
        unnamed = [type(w).__name__ for w in controls if not w.accessibleName()]
        assert unnamed == [], f"tab {window.tabs.tabText(index)}: {unnamed}"
        for label in page.findChildren(QLabel):
            if label.buddy() is not None:
                assert "&" in label.text(), label.text()  # Alt+letter reaches the control
    resources = window.resources
    assert resources.memory_label.buddy() is resources.memory.slider
    assert resources.memory.slider.accessibleName() == "Memory"
    assert resources.memory.slider.accessibleDescription().endswith(
        f"of {resources.memory.value_label.text().split(' of ')[1]}"
    )
    assert resources.memory.slider.singleStep() == 256  # MB a key press; 1 GB a page
    assert resources.memory.slider.pageStep() == 1024


def test_the_schedule_grid_works_from_the_keyboard(qtbot):
    editor = ScheduleEditor()
    qtbot.addWidget(editor)
    editor.set_windows([])
    editor.show()
    editor.setFocus()
    qtbot.keyClick(editor, Qt.Key_Down)  # Tuesday
    qtbot.keyClick(editor, Qt.Key_End)  # 23:00
    with qtbot.waitSignal(editor.changed) as changed:
        qtbot.keyClick(editor, Qt.Key_Space)
    assert changed.args[0] == [ScheduleWindow(days=[1], start="23:00", end="24:00")]
    # Shift+arrow carries the mark along, as a drag does.
    qtbot.keyClick(editor, Qt.Key_Left, Qt.ShiftModifier)
    qtbot.keyClick(editor, Qt.Key_Left, Qt.ShiftModifier)
    assert editor.windows() == [ScheduleWindow(days=[1], start="21:00", end="24:00")]
    assert schedule_summary(editor.windows()) == "Tue 21:00–24:00"
    workweek = [ScheduleWindow(days=[0, 1, 2, 3, 4], start="18:00", end="24:00")]
    assert schedule_summary(workweek) == "Mon–Fri 18:00–24:00"


def test_charts_say_what_they_show(make_app, tmp_path):
    hivemind = make_app(tmp_path / "home", start=False)
    overview, earnings = hivemind.window.overview, hivemind.window.earnings
    hivemind.bridge.usage_sampled.emit(models.UsageSample(23.4, 50.0, 12.0, 3.0, 8192))
    assert overview.cpu_chart.accessibleName() == "Processor"
    assert overview.cpu_chart.accessibleDescription() == "This computer 23%, HiveMind 12%"
    days = (("2026-01-01", 0), ("2026-01-02", 1_500_000), ("2026-01-03", 250_000))
    hivemind.bridge.earnings_loaded.emit(models.EarningsSnapshot(days=days, time_zone="UTC"))
    assert (
        earnings.chart.accessibleDescription() == "3 days; the best was 2026-01-02, with 1.5 CPT."
    )


@pytest.mark.parametrize("language", ["en", "zh_TW"])
def test_nothing_is_cut_off_at_the_smallest_window(make_app, qtbot, tmp_path, language):
    hivemind = make_app(tmp_path / "home", start=False)
    window = hivemind.window
    window.show()
    window.resize(*MINIMUM_SIZE)
    hivemind.bridge.set_language(language)
    qtbot.wait(50)  # the language change is an event
    unreachable = models.Problem(
        "failed to connect to all addresses", "UNREACHABLE", "UNAVAILABLE", "hive.example.org:443"
    )
    window.account.auth_label.show_problem(unreachable)
    window.submit.estimate_label.show_estimate(2_604_000, "starter", None)  # the longest text
    hivemind.bridge.estimate_ready.disconnect(window.submit.estimate_label.show_estimate)
    cut = []
    for index in range(window.tabs.count()):
        window.tabs.setCurrentIndex(index)
        qtbot.wait(20)
        page = window.tabs.widget(index)
        for label in page.findChildren(QLabel):
            if not label.isVisibleTo(page) or not label.text() or label.width() <= 0:
                continue
            if label.wordWrap():
                needed = label.heightForWidth(label.contentsRect().width())
                short = needed > label.contentsRect().height() + 1
            else:
                short = label.sizeHint().width() > label.width() + 1
            if short:
                cut.append(f"{window.tabs.tabText(index)}: {label.text()[:60]!r}")
    assert cut == []
