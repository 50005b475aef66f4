"""Resources: how much of this machine HiveMind may use, and when. Every change is saved and
applied to the running worker at once (SettingsStore's live subscribers); nothing to "Save"."""

from __future__ import annotations

import logging

from PySide6.QtCore import QEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
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
from app.ui.partials.resource_slider import ResourceSlider
from app.ui.partials.schedule_editor import ScheduleEditor
from app.ui.texts import fill, gpu_reason_text

log = logging.getLogger(__name__)

MEMORY_STEP_MB = 64
MIN_MEMORY_MB = 256
DEFAULT_DISK_MB = 10 * 1024
MAX_SECRET_AGE_DAYS = 9999


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
            MIN_MEMORY_MB, max(MIN_MEMORY_MB, hardware.memory_mb), MEMORY_STEP_MB
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

        self.security_box = QGroupBox()
        security = QFormLayout(self.security_box)
        security.setFieldGrowthPolicy(QFormLayout.FieldsStayAtSizeHint)
        self.secret_max_age_label = QLabel()
        security.addRow(self.secret_max_age_label, self.secret_max_age)

        content = QWidget()
        layout = QVBoxLayout(content)
        layout.addWidget(self.error_label)
        layout.addWidget(self.machine_box)
        layout.addWidget(self.network_box)
        layout.addWidget(self.when_box)
        layout.addWidget(self.security_box)
        layout.addStretch(1)
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

    def retranslate_ui(self) -> None:
        self.machine_box.setTitle(self.tr("This computer"))
        self.network_box.setTitle(self.tr("Network"))
        self.when_box.setTitle(self.tr("When to share"))
        self.cores_label.setText(self.tr("Processor cores"))
        self.cpu_label.setText(self.tr("Processor use"))
        self.memory_label.setText(self.tr("Memory"))
        self.disk_label.setText(self.tr("Disk space"))
        self.gpu_label.setText(self.tr("Graphics card"))
        self.gpu.setText(self.tr("Share the graphics card"))
        self.upload_label.setText(self.tr("Upload limit"))
        self.download_label.setText(self.tr("Download limit"))
        for box in (self.upload, self.download):
            box.setSuffix(" " + self.tr("KB/s"))
            box.setSpecialValueText(self.tr("Unlimited"))
        self.idle_label.setText(self.tr("Only when idle for"))
        self.idle_minutes.setSuffix(" " + self.tr("min"))
        self.idle_minutes.setSpecialValueText(self.tr("Always (do not wait)"))
        self.pause_on_battery.setText(self.tr("Pause while on battery"))
        self.executor_label.setText(self.tr("Task isolation"))
        self.executor.setItemText(0, self.tr("Docker sandbox (recommended)"))
        self.executor.setItemText(1, self.tr("No sandbox (trusted private networks only)"))
        self.executor_warning.setText(
            self.tr(
                "Tasks run as ordinary programs on this computer, without a sandbox. "
                "Use this only with people you trust."
            )
        )
        self.schedule_enabled.setText(self.tr("Share only during the marked hours"))
        self.security_box.setTitle(self.tr("Security"))
        self.secret_max_age_label.setText(self.tr("Renew this computer's node key every"))
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
