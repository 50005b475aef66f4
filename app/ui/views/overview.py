"""Overview: is this machine sharing, and if not why; live CPU / memory of the machine and of
HiveMind's share; the tasks running now; recent events."""

from __future__ import annotations

import time

from PySide6.QtCore import QEvent, Qt, QTimer, Signal
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import (
    QAbstractItemView,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.ui import models
from app.ui.assets import tray_icon_path
from app.ui.bridge import Bridge
from app.ui.partials.charts import LineChart
from app.ui.partials.wrapped_lines import wrapped_line_list
from app.ui.texts import AGGREGATE_INDEX, activity_text, duration_text, fill, state_text

MAX_EVENTS = 200
PAUSE_SECONDS = 3600


class OverviewTab(QWidget):
    sign_in_requested = Signal()  # "Sign in…": the window shows the Account tab
    sharing_requested = Signal(bool)  # the share button: the window decides (it may ask)

    def __init__(self, bridge: Bridge, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._bridge = bridge
        self._state = models.SharingState()
        self._tasks: list[models.RunningTask] = []

        self.state_icon = QLabel()
        self.state_label = QLabel()
        self.state_label.setObjectName("stateHeadline")
        self.state_label.setWordWrap(True)
        font = self.state_label.font()
        font.setPointSizeF(font.pointSizeF() * 1.35)
        font.setBold(True)
        self.state_label.setFont(font)
        self.share_button = QPushButton()
        self.share_button.clicked.connect(self._toggle_sharing)
        self.pause_button = QPushButton()
        self.pause_button.clicked.connect(self._pause_or_resume)
        header = QHBoxLayout()
        header.addWidget(self.state_icon)
        header.addWidget(self.state_label, 1)
        header.addWidget(self.pause_button)
        header.addWidget(self.share_button)

        self.cpu_chart = LineChart()
        self.cpu_chart.add_series("#3d7edb")
        self.cpu_chart.add_series("#e0a100")
        self.memory_chart = LineChart()
        self.memory_chart.add_series("#3d7edb")
        self.memory_chart.add_series("#e0a100")
        charts = QHBoxLayout()
        charts.addWidget(self.cpu_chart)
        charts.addWidget(self.memory_chart)

        self.tasks_box = QGroupBox()
        self.tasks_table = QTableWidget(0, 5)
        self.tasks_table.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.tasks_table.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.tasks_table.verticalHeader().hide()
        task_columns = self.tasks_table.horizontalHeader()
        task_columns.setSectionResizeMode(QHeaderView.ResizeToContents)
        task_columns.setSectionResizeMode(0, QHeaderView.Stretch)  # the job takes what is left
        self.tasks_table.setWordWrap(False)
        self.tasks_table.setTextElideMode(Qt.ElideMiddle)
        self.no_tasks_label = QLabel()
        tasks_layout = QVBoxLayout(self.tasks_box)
        tasks_layout.addWidget(self.tasks_table)
        tasks_layout.addWidget(self.no_tasks_label)

        self.events_box = QGroupBox()
        # Wrapped, not cut: the end of a line is what matters ("…: different", an error).
        self.events_list = wrapped_line_list()
        events_layout = QVBoxLayout(self.events_box)
        events_layout.addWidget(self.events_list)

        lower = QHBoxLayout()
        lower.addWidget(self.tasks_box, 3)
        lower.addWidget(self.events_box, 2)

        layout = QVBoxLayout(self)
        layout.addLayout(header)
        layout.addLayout(charts, 2)
        layout.addLayout(lower, 3)

        bridge.sharing_changed.connect(self.show_state)
        bridge.usage_sampled.connect(self.add_usage)
        bridge.running_tasks_changed.connect(self.show_tasks)
        bridge.activity.connect(self.add_event)
        # Elapsed times tick while tasks run.
        self._ticker = QTimer(self)
        self._ticker.setInterval(1000)
        self._ticker.timeout.connect(self._refresh_task_times)
        self.retranslate_ui()
        self.show_state(bridge.sharing_state)

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.LanguageChange:
            self.retranslate_ui()
        super().changeEvent(event)

    def retranslate_ui(self) -> None:
        self.cpu_chart.title = self.tr("Processor")
        self.memory_chart.title = self.tr("Memory")
        for chart in (self.cpu_chart, self.memory_chart):
            chart.set_series_name(0, self.tr("This computer"))
            chart.set_series_name(1, self.tr("HiveMind"))
        self.tasks_box.setTitle(self.tr("Running tasks"))
        self.events_box.setTitle(self.tr("Recent events"))
        self.tasks_table.setAccessibleName(self.tr("Running tasks"))
        self.events_list.setAccessibleName(self.tr("Recent events"))
        self.no_tasks_label.setText(self.tr("No task is running on this computer right now."))
        self.tasks_table.setHorizontalHeaderLabels(
            [
                self.tr("Job"),
                self.tr("Task"),
                self.tr("Elapsed"),
                self.tr("Deadline"),
                self.tr("Limits"),
            ]
        )
        self.show_state(self._state)
        self.show_tasks(self._tasks)
        self._retranslate_events()

    def show_state(self, state: models.SharingState) -> None:
        self._state = state
        self.state_label.setText(state_text(state))
        icon_state = {
            models.SHARING: "sharing",
            models.PAUSED: "paused",
            models.OFF: "paused",
            models.STOPPING: "paused",
            models.OFFLINE: "offline",
            models.ERROR: "error",
        }[state.state]
        self.state_icon.setPixmap(QIcon(str(tray_icon_path(icon_state, False))).pixmap(40, 40))
        if self._needs_sign_in(state):
            # Sharing is on, but nobody is signed in: the next step is signing in.
            self.share_button.setText(self.tr("Sign in…"))
        elif state.state == models.STOPPING:
            self.share_button.setText(self.tr("Hand them back now"))
        else:
            sharing_on = state.state != models.OFF
            self.share_button.setText(
                self.tr("&Stop sharing") if sharing_on else self.tr("&Start sharing")
            )
        self.pause_button.setVisible(
            not self._needs_sign_in(state) and state.state != models.STOPPING
        )
        self.pause_button.setEnabled(state.state in (models.SHARING, models.PAUSED))
        if self._manual_pause(state):
            self.pause_button.setText(self.tr("&Resume sharing now"))
        else:
            self.pause_button.setText(self.tr("&Pause for 1 hour"))

    @staticmethod
    def _manual_pause(state: models.SharingState) -> bool:
        return state.state == models.PAUSED and state.reason.startswith("manual pause")

    def _pause_or_resume(self) -> None:
        if self._manual_pause(self._state):
            self._bridge.resume_now()
        else:
            self._bridge.pause_for(PAUSE_SECONDS)

    @staticmethod
    def _needs_sign_in(state: models.SharingState) -> bool:
        return state.state == models.OFFLINE and state.reason == "not signed in"

    def _toggle_sharing(self) -> None:
        if self._needs_sign_in(self._state):
            self.sign_in_requested.emit()
        elif self._state.state == models.STOPPING:
            self._bridge.stop_now()
        else:
            self.sharing_requested.emit(self._state.state == models.OFF)

    def add_usage(self, sample: models.UsageSample) -> None:
        self.cpu_chart.add_sample([sample.cpu_percent, sample.hivemind_cpu_percent])
        self.memory_chart.add_sample([sample.memory_percent, sample.hivemind_memory_percent])

    def show_tasks(self, tasks: list[models.RunningTask]) -> None:
        self._tasks = list(tasks)
        self.tasks_table.setRowCount(len(tasks))
        for row, task in enumerate(tasks):
            limits = fill(self.tr("%n core(s), %1 MB", "", task.cores), task.memory_mb)
            if task.paused:
                limits += " · " + self.tr("paused")
            task_text = str(task.task_index)
            if task.task_index == AGGREGATE_INDEX:
                task_text = self.tr("aggregate")
            if task.comparison:
                task_text = fill(self.tr("%1 (comparing)"), task.task_index)
            values = [task.job_id, task_text, "", "", limits]
            for column, value in enumerate(values):
                self.tasks_table.setItem(row, column, QTableWidgetItem(value))
            if task.comparison:
                self.tasks_table.item(row, 1).setToolTip(
                    self.tr("Comparing two results of this task, to tell whether they agree")
                )
        self.tasks_table.setVisible(bool(tasks))
        self.no_tasks_label.setVisible(not tasks)
        self._refresh_task_times()
        if tasks:
            self._ticker.start()
        else:
            self._ticker.stop()

    def _refresh_task_times(self) -> None:
        now = time.time()
        for row, task in enumerate(self._tasks):
            elapsed = self.tasks_table.item(row, 2)
            deadline = self.tasks_table.item(row, 3)
            if elapsed is None or deadline is None:
                continue
            elapsed.setText(duration_text(task.elapsed_s(now)))
            left = int(task.deadline - now) if task.deadline else 0
            deadline.setText(fill(self.tr("in %1"), duration_text(left)) if task.deadline else "—")

    def add_event(self, event: models.ActivityEvent) -> None:
        self.events_list.insertItem(0, _event_line(event))
        self.events_list.item(0).setData(Qt.UserRole, event)
        if event.problem is not None and event.problem.raw:
            self.events_list.item(0).setToolTip(event.problem.raw)  # the details
        while self.events_list.count() > MAX_EVENTS:
            self.events_list.takeItem(self.events_list.count() - 1)

    def _retranslate_events(self) -> None:
        for row in range(self.events_list.count()):
            item = self.events_list.item(row)
            item.setText(_event_line(item.data(Qt.UserRole)))


def _event_line(event: models.ActivityEvent) -> str:
    stamp = time.strftime("%H:%M:%S", time.localtime(event.at))
    return f"{stamp}  {activity_text(event)}"
