"""Resources: how much of this machine HiveMind may use, and when. Every change is saved and
applied to the running worker at once (SettingsStore's live subscribers); nothing to "Save"."""

from __future__ import annotations

import logging

from PySide6.QtCore import QEvent, Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.services.monitor import HardwareFacts, free_capacity
from app.services.settings import ClientSettings, ContributorSettings, SettingsStore
from app.services.worker.secret import DAY_S, max_secret_age_s
from app.ui.bridge import Bridge
from app.ui.partials.accessible import name_controls, tie
from app.ui.partials.resource_slider import ResourceSlider
from app.ui.partials.schedule_editor import ScheduleEditor, schedule_summary
from app.ui.texts import fill, gpu_reason_text

log = logging.getLogger(__name__)

MEMORY_STEP_MB = 64
MEMORY_KEY_STEP_MB = 256  # an arrow key; Page Up/Down move 1 GB
MIN_MEMORY_MB = 256
DEFAULT_DISK_MB = 10 * 1024
MAX_SECRET_AGE_DAYS = 9999
TWO_COLUMNS_FROM_PX = 940  # narrower: one column (it scrolls)


class ResourcesTab(QWidget):
    def __init__(
        self,
        bridge: Bridge,
        store: SettingsStore,
        hardware: HardwareFacts,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._bridge = bridge
        self._store = store
        self._hw = hardware
        self._gpu_reason = ""
        self._gpu_available = False

        self.cores = ResourceSlider(1, hardware.cores)
        self.cores.describe = lambda v: fill(self.tr("%1 of %2 cores"), v, self._hw.cores)
        self.cpu_percent = ResourceSlider(10, 100, 5)
        self.cpu_percent.describe = lambda v: fill(self.tr("%1% of each core"), v)
        self.memory = ResourceSlider(
            MIN_MEMORY_MB,
            max(MIN_MEMORY_MB, hardware.memory_mb),
            MEMORY_STEP_MB,
            key_step=MEMORY_KEY_STEP_MB,
        )
        self.memory.describe = lambda v: fill(
            self.tr("%1 of %2"), size_text(v), size_text(self._hw.memory_mb)
        )
        disk_total = max(1024, hardware.disk_mb)
        self.disk = ResourceSlider(1024, disk_total, 1024)
        self.disk.describe = lambda v: fill(
            self.tr("%1 of %2 free"), size_text(v), size_text(disk_total)
        )
        self.gpu = QCheckBox()
        self.gpu_reason = QLabel()
        self.gpu_reason.setWordWrap(True)
        gpu_row = QHBoxLayout()
        gpu_row.addWidget(self.gpu)
        gpu_row.addWidget(self.gpu_reason, 1)

        self.upload = _rate_box()
        self.download = _rate_box()
        self.idle_minutes = QSpinBox()
        self.idle_minutes.setRange(0, 240)
        self.idle_minutes.setMinimumWidth(200)
        self.pause_on_battery = QCheckBox()
        self.executor = QComboBox()
        self.executor.addItems(["", ""])
        self.executor_warning = QLabel()
        self.executor_warning.setWordWrap(True)
        self.executor_warning.setStyleSheet("color: #b35c00;")
        self.schedule_enabled = QCheckBox()
        self.schedule = ScheduleEditor()
        # The grid in words: for everyone a glance, for a screen reader the grid itself.
        self.schedule_summary = QLabel()
        self.schedule_summary.setWordWrap(True)
        self.secret_max_age = QSpinBox()
        self.secret_max_age.setRange(0, MAX_SECRET_AGE_DAYS)
        self.secret_max_age.setMinimumWidth(200)
        # Saved when the number is complete (Enter, leaving the box, the arrows), not per
        # keystroke: typing "365" must not apply "3" on the way, which would rotate a secret
        # older than 3 days at once.
        self.secret_max_age.setKeyboardTracking(False)
        self.error_label = QLabel()
        self.error_label.setStyleSheet("color: #c0392b;")
        self.error_label.setWordWrap(True)
        self.error_label.hide()

        self.machine_box = QGroupBox()
        machine = QFormLayout(self.machine_box)
        self.cores_label, self.cpu_label = QLabel(), QLabel()
        self.memory_label, self.disk_label, self.gpu_label = QLabel(), QLabel(), QLabel()
        machine.addRow(self.cores_label, self.cores)
        machine.addRow(self.cpu_label, self.cpu_percent)
        machine.addRow(self.memory_label, self.memory)
        machine.addRow(self.disk_label, self.disk)
        machine.addRow(self.gpu_label, gpu_row)

        self.network_box = QGroupBox()
        network = QFormLayout(self.network_box)
        network.setFieldGrowthPolicy(QFormLayout.FieldsStayAtSizeHint)
        self.upload_label, self.download_label = QLabel(), QLabel()
        network.addRow(self.upload_label, self.upload)
        network.addRow(self.download_label, self.download)

        self.when_box = QGroupBox()
        when = QFormLayout(self.when_box)
        when.setFieldGrowthPolicy(QFormLayout.FieldsStayAtSizeHint)
        self.idle_label, self.executor_label = QLabel(), QLabel()
        when.addRow(self.idle_label, self.idle_minutes)
        when.addRow(self.pause_on_battery)
        when.addRow(self.executor_label, self.executor)
        when.addRow(self.executor_warning)
        when.addRow(self.schedule_enabled)
        when.addRow(self.schedule)
        when.addRow(self.schedule_summary)
        for label, control in (
            (self.cores_label, self.cores.slider),
            (self.cpu_label, self.cpu_percent.slider),
            (self.memory_label, self.memory.slider),
            (self.disk_label, self.disk.slider),
            (self.gpu_label, self.gpu),
            (self.upload_label, self.upload),
            (self.download_label, self.download),
            (self.idle_label, self.idle_minutes),
            (self.executor_label, self.executor),
        ):
            tie(label, control)

        self.security_box = QGroupBox()
        security = QFormLayout(self.security_box)
        security.setFieldGrowthPolicy(QFormLayout.FieldsStayAtSizeHint)
        self.secret_max_age_label = QLabel()
        security.addRow(self.secret_max_age_label, self.secret_max_age)
        tie(self.secret_max_age_label, self.secret_max_age)

        # Two columns where there is room (what to lend on the left, when on the right), so
        # the whole tab fits a default window in every language; one column, scrolling,
        # in a narrow one.
        content = QWidget()
        layout = QVBoxLayout(content)
        layout.addWidget(self.error_label)
        self._grid = QGridLayout()
        self._two_columns: bool | None = None
        layout.addLayout(self._grid)
        layout.addStretch(1)
        self._arrange(two_columns=True)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(content)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(scroll)

        self.load(store.settings)
        self.cores.committed.connect(lambda v: self._apply(cores=v))
        self.cpu_percent.committed.connect(lambda v: self._apply(cpu_percent=v))
        self.memory.committed.connect(lambda v: self._apply(memory_mb=v))
        self.disk.committed.connect(lambda v: self._apply(disk_mb=v))
        self.gpu.toggled.connect(lambda on: self._apply(gpu=on))
        self.upload.valueChanged.connect(lambda v: self._apply(upload_kbps=v))
        self.download.valueChanged.connect(lambda v: self._apply(download_kbps=v))
        self.idle_minutes.valueChanged.connect(lambda v: self._apply(idle_minutes=v))
        self.pause_on_battery.toggled.connect(lambda on: self._apply(pause_on_battery=on))
        self.executor.currentIndexChanged.connect(self._executor_chosen)
        self.schedule_enabled.toggled.connect(self._schedule_toggled)
        self.schedule.changed.connect(lambda windows: self._apply(schedule=windows))
        self.secret_max_age.valueChanged.connect(self._secret_age_chosen)
        bridge.settings_changed.connect(self.load)
        bridge.gpu_status.connect(self.show_gpu)
        self.retranslate_ui()

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.LanguageChange:
            self.retranslate_ui()
        super().changeEvent(event)

    def resizeEvent(self, event) -> None:
        self._arrange(two_columns=event.size().width() >= TWO_COLUMNS_FROM_PX)
        super().resizeEvent(event)

    def _arrange(self, two_columns: bool) -> None:
        if two_columns == self._two_columns:
            return
        self._two_columns = two_columns
        boxes = (self.machine_box, self.network_box, self.security_box, self.when_box)
        for box in boxes:
            self._grid.removeWidget(box)
        if two_columns:
            places = [(0, 0, 1, 1), (1, 0, 1, 1), (2, 0, 1, 1), (0, 1, 3, 1)]
        else:
            places = [(0, 0, 1, 2), (1, 0, 1, 2), (3, 0, 1, 2), (2, 0, 1, 2)]
        for box, place in zip(boxes, places, strict=True):
            self._grid.addWidget(box, *place, Qt.AlignTop)
        for column in range(2):
            self._grid.setColumnStretch(column, 1)
        for row in range(4):
            self._grid.setRowStretch(row, 0)
        # The last row takes what is left, so the boxes above keep their height.
        self._grid.setRowStretch(2 if two_columns else 3, 1)

    def retranslate_ui(self) -> None:
        self.machine_box.setTitle(self.tr("This computer"))
        self.network_box.setTitle(self.tr("Network"))
        self.when_box.setTitle(self.tr("When to share"))
        self.cores_label.setText(self.tr("Processor &cores"))
        self.cpu_label.setText(self.tr("Processor &use"))
        self.memory_label.setText(self.tr("&Memory"))
        self.disk_label.setText(self.tr("&Disk space"))
        self.gpu_label.setText(self.tr("&Graphics card"))
        self.gpu.setText(self.tr("Share the graphics card"))
        self.upload_label.setText(self.tr("U&pload limit"))
        self.download_label.setText(self.tr("Do&wnload limit"))
        for box in (self.upload, self.download):
            box.setSuffix(" " + self.tr("KB/s"))
            box.setSpecialValueText(self.tr("Unlimited"))
        self.idle_label.setText(self.tr("Only when &idle for"))
        self.idle_minutes.setSuffix(" " + self.tr("min"))
        self.idle_minutes.setSpecialValueText(self.tr("Always (do not wait)"))
        self.pause_on_battery.setText(self.tr("Pause while on &battery"))
        self.executor_label.setText(self.tr("Task is&olation"))
        self.executor.setItemText(0, self.tr("Docker sandbox (recommended)"))
        self.executor.setItemText(1, self.tr("No sandbox (trusted private networks only)"))
        self.executor_warning.setText(
            self.tr(
                "Tasks run as ordinary programs on this computer, without a sandbox. "
                "Use this only with people you trust."
            )
        )
        self.schedule_enabled.setText(self.tr("Share only during the &marked hours"))
        self.security_box.setTitle(self.tr("Security"))
        self.secret_max_age_label.setText(self.tr("&Renew this computer's node key every"))
        self._show_secret_age_unit(self.secret_max_age.value())
        self.secret_max_age.setSpecialValueText(self.tr("Never"))
        tip = self.tr(
            "This computer proves it is your node with a secret key. While sharing, HiveMind "
            "replaces the key once it is this old, so a copy taken from this computer stops "
            "working by itself. Never keeps the same key."
        )
        self.secret_max_age_label.setToolTip(tip)
        self.secret_max_age.setToolTip(tip)
        for slider in (self.cores, self.cpu_percent, self.memory, self.disk):
            slider.refresh_label()
        self.show_gpu(self._gpu_available, self._gpu_reason)
        self.schedule.setAccessibleName(self.tr("Sharing hours, Monday to Sunday"))
        self.schedule.setToolTip(
            self.tr("Click or drag to mark hours; or use the arrow keys and Space")
        )
        self._show_schedule_summary()
        name_controls(self)

    def _show_schedule_summary(self) -> None:
        windows = self.schedule.windows()
        text = schedule_summary(windows) or self.tr("no hour is marked")
        self.schedule_summary.setText(fill(self.tr("Marked: %1"), text))
        self.schedule.setAccessibleDescription(self.schedule_summary.text())

    def load(self, settings: ClientSettings) -> None:
        """Shows `settings` without writing them back."""
        c: ContributorSettings = settings.contributor
        cores, memory = free_capacity(c.cores, c.memory_mb, self._hw.cores, self._hw.memory_mb)
        self.cores.set_value(cores)
        self.cpu_percent.set_value(c.cpu_percent)
        self.memory.set_value(memory)
        self.disk.set_value(c.disk_mb or min(DEFAULT_DISK_MB, self.disk.slider.maximum()))
        widgets = (
            self.gpu,
            self.upload,
            self.download,
            self.idle_minutes,
            self.pause_on_battery,
            self.executor,
            self.schedule_enabled,
            self.secret_max_age,
        )
        for widget in widgets:
            widget.blockSignals(True)
        self.gpu.setChecked(c.gpu and self._gpu_available)
        self.upload.setValue(c.upload_kbps)
        self.download.setValue(c.download_kbps)
        self.idle_minutes.setValue(c.idle_minutes)
        self.pause_on_battery.setChecked(c.pause_on_battery)
        self.executor.setCurrentIndex(1 if c.executor == "process" else 0)
        self.schedule_enabled.setChecked(c.schedule_enabled)
        self.secret_max_age.setValue(secret_age_days_shown(settings))
        self._show_secret_age_unit(self.secret_max_age.value())
        for widget in widgets:
            widget.blockSignals(False)
        self.executor_warning.setVisible(c.executor == "process")
        self.schedule.set_windows(c.schedule)
        self.schedule.setEnabled(c.schedule_enabled)
        self._show_schedule_summary()

    def show_gpu(self, available: bool, reason: str) -> None:
        self._gpu_available, self._gpu_reason = available, reason
        self.gpu.setEnabled(available)
        if not available:
            self.gpu.blockSignals(True)
            self.gpu.setChecked(False)
            self.gpu.blockSignals(False)
        if available:
            self.gpu_reason.setText("")
        elif reason:
            self.gpu_reason.setText(fill(self.tr("Not available: %1"), gpu_reason_text(reason)))
            self.gpu_reason.setToolTip(reason)
        else:
            self.gpu_reason.setText(self.tr("Checking for a usable graphics card…"))

    def _executor_chosen(self, index: int) -> None:
        executor = "process" if index == 1 else "docker"
        self.executor_warning.setVisible(executor == "process")
        self._apply(executor=executor)

    def _secret_age_chosen(self, days: int) -> None:
        self._show_secret_age_unit(days)
        self._apply(node_secret_max_age_days=days)

    def _show_secret_age_unit(self, days: int) -> None:
        self.secret_max_age.setSuffix(" " + self.tr("day(s)", "", days))

    def _schedule_toggled(self, enabled: bool) -> None:
        self.schedule.setEnabled(enabled)
        self._apply(schedule_enabled=enabled)

    def _apply(self, **changes: object) -> None:
        try:
            self._store.update_contributor(**changes)
        except (ValueError, OSError) as exc:
            self.error_label.setText(fill(self.tr("Not saved: %1"), exc))
            self.error_label.show()
            log.warning("contributor settings not saved: %s", exc)
            return
        self.error_label.hide()


def _rate_box() -> QSpinBox:
    box = QSpinBox()
    box.setMinimumWidth(200)
    box.setRange(0, 1_000_000)
    box.setSingleStep(128)
    return box


def size_text(mb: int) -> str:
    """256 -> "256 MB", 1536 -> "1.5 GB" (units are the same in every language here)."""
    return f"{mb} MB" if mb < 1024 else f"{mb / 1024:.1f} GB"


def secret_age_days_shown(settings: ClientSettings) -> int:
    """The node key's age limit in whole days as the worker reads it; 0 ("Never") also for a
    hand-edited value the worker treats as never."""
    max_age_s = max_secret_age_s(settings)
    if max_age_s is None:
        return 0
    return min(MAX_SECRET_AGE_DAYS, max(1, round(max_age_s / DAY_S)))
