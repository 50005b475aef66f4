"""The tray icon: state at a glance, the four actions people use daily, calm notifications.

The actions exist even where the system has no tray (GNOME without the AppIndicator
extension, some CI): the window then shows the same controls and says so.
"""

from __future__ import annotations

import time

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QGuiApplication, QIcon, QPalette
from PySide6.QtWidgets import QMenu, QSystemTrayIcon

from app.ui import models
from app.ui.assets import tray_icon_path
from app.ui.bridge import Bridge
from app.ui.texts import activity_text, fill, payouts_notification, short_state_text, state_text

# At most one notification of a kind per this many seconds; payouts in between are summed.
NOTIFY_INTERVAL_S = 60.0
PAUSE_SECONDS = 3600

_ICON_FOR_STATE = {
    models.SHARING: "sharing",
    models.PAUSED: "paused",
    models.OFF: "paused",
    models.STOPPING: "paused",
    models.OFFLINE: "offline",
    models.ERROR: "error",
}


def dark_panel() -> bool:
    """Whether the panel is dark, so the tray glyph should be light."""
    hints = QGuiApplication.styleHints()
    scheme = hints.colorScheme()
    if scheme == Qt.ColorScheme.Dark:
        return True
    if scheme == Qt.ColorScheme.Light:
        return False
    return QGuiApplication.palette().color(QPalette.Window).lightness() < 128


class TrayController(QObject):
    open_requested = Signal()
    quit_requested = Signal()
    # The switch was flipped: the window decides (it may ask about running tasks first).
    sharing_requested = Signal(bool)
    notified = Signal(str, str)  # title, message (also when there is no tray to show it)

    def __init__(self, bridge: Bridge, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._bridge = bridge
        self._state = bridge.sharing_state
        self._today_ucpt = 0
        self.available = QSystemTrayIcon.isSystemTrayAvailable()

        self.share_action = QAction(self)
        self.share_action.setCheckable(True)
        self.share_action.setChecked(bridge.store.settings.contributor.sharing)
        self.share_action.toggled.connect(self.sharing_requested)
        self.pause_action = QAction(self)
        self.pause_action.triggered.connect(self._pause_or_resume)
        self.open_action = QAction(self)
        self.open_action.triggered.connect(self.open_requested)
        self.quit_action = QAction(self)
        self.quit_action.triggered.connect(self.quit_requested)
        self.menu = QMenu()
        self.menu.addAction(self.share_action)
        self.menu.addAction(self.pause_action)
        self.menu.addSeparator()
        self.menu.addAction(self.open_action)
        self.menu.addAction(self.quit_action)

        self.icon: QSystemTrayIcon | None = None
        if self.available:
            self.icon = QSystemTrayIcon(self)
            self.icon.setContextMenu(self.menu)
            self.icon.activated.connect(self._activated)

        self.notify_interval_s = NOTIFY_INTERVAL_S
        self._last_notified: dict[str, float] = {}
        # (amount, whether it paid a comparison) per payout not notified yet.
        self._pending_payouts: list[tuple[int, bool]] = []
        self._payout_timer = QTimer(self)
        self._payout_timer.setSingleShot(True)
        self._payout_timer.timeout.connect(self._flush_payouts)
        self._pending_jobs: list[models.ActivityEvent] = []
        self._jobs_timer = QTimer(self)
        self._jobs_timer.setSingleShot(True)
        self._jobs_timer.timeout.connect(self._flush_jobs)

        bridge.sharing_changed.connect(self._show_state)
        bridge.settings_changed.connect(self._settings_changed)
        bridge.earnings_loaded.connect(self._earnings)
        bridge.activity.connect(self._activity)
        # The tray is no widget, so it gets no LanguageChange: its menu (a widget) does. A filter
        # on the whole application would run Python for every event of every object, even for
        # widgets half-way through their destructor, which crashes PySide.
        self.menu.installEventFilter(self)
        self.retranslate_ui()
        self._show_state(self._state)
        if self.icon is not None:
            self.icon.show()

    def close(self) -> None:
        """Hides the icon and stops watching the menu (before the app ends)."""
        self.menu.removeEventFilter(self)
        self._payout_timer.stop()
        self._jobs_timer.stop()
        if self.icon is not None:
            self.icon.hide()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.LanguageChange:
            self.retranslate_ui()
        elif event.type() == QEvent.PaletteChange:
            self._show_state(self._state)  # a dark panel wants the light glyph
        return False

    def retranslate_ui(self) -> None:
        self.share_action.setText(self.tr("Share resources"))
        self.open_action.setText(self.tr("Open HiveMind"))
        self.quit_action.setText(self.tr("Quit"))
        self._update_pause_action()
        self._update_tooltip()

    def _update_pause_action(self) -> None:
        if self._bridge.manually_paused:
            self.pause_action.setText(self.tr("Resume sharing now"))
        else:
            self.pause_action.setText(self.tr("Pause for 1 hour"))
        self.pause_action.setEnabled(self._state.state in (models.SHARING, models.PAUSED))

    def _pause_or_resume(self) -> None:
        if self._bridge.manually_paused:
            self._bridge.resume_now()
        else:
            self._bridge.pause_for(PAUSE_SECONDS)
        self._update_pause_action()

    def tooltip(self) -> str:
        return (
            "HiveMind — "
            + short_state_text(self._state)
            + "\n"
            + fill(self.tr("Today: %1"), models.cpt_short(self._today_ucpt))
        )

    def _update_tooltip(self) -> None:
        if self.icon is not None:
            self.icon.setToolTip(self.tooltip())

    def _show_state(self, state: models.SharingState) -> None:
        self._state = state
        if self.icon is not None:
            name = _ICON_FOR_STATE[state.state]
            self.icon.setIcon(QIcon(str(tray_icon_path(name, dark_panel()))))
        self._update_pause_action()
        self._update_tooltip()

    def _settings_changed(self, settings) -> None:
        self.show_sharing_setting(settings.contributor.sharing)

    def show_sharing_setting(self, sharing: bool) -> None:
        """Puts the switch where the setting is (after a change, or a question cancelled)."""
        if self.share_action.isChecked() != sharing:
            self.share_action.blockSignals(True)
            self.share_action.setChecked(sharing)
            self.share_action.blockSignals(False)

    def _earnings(self, snapshot: models.EarningsSnapshot) -> None:
        self._today_ucpt = snapshot.today_ucpt
        self._update_tooltip()

    def _activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        if reason in (QSystemTrayIcon.Trigger, QSystemTrayIcon.DoubleClick):
            self.open_requested.emit()

    # -- notifications ---------------------------------------------------------------------------

    def _activity(self, event: models.ActivityEvent) -> None:
        if event.kind == "payout" and event.amount_ucpt > 0:
            self._pending_payouts.append((event.amount_ucpt, event.comparison))
            self._payout_timer.start(int(self._seconds_until_allowed("payout") * 1000))
        elif event.kind == "job_finished":
            self._pending_jobs.append(event)
            self._jobs_timer.start(int(self._seconds_until_allowed("job") * 1000))
        elif (
            event.kind == "error"
            and self._state.state == models.ERROR
            and self._seconds_until_allowed("error") == 0
        ):
            self._notify("error", state_text(self._state))

    def _seconds_until_allowed(self, kind: str) -> float:
        last = self._last_notified.get(kind)
        if last is None:
            return 0.0
        return max(0.0, self.notify_interval_s - (time.monotonic() - last))

    def _flush_payouts(self) -> None:
        if not self._pending_payouts:
            return
        payouts, self._pending_payouts = self._pending_payouts, []
        comparisons = sum(1 for _amount, comparison in payouts if comparison)
        total = sum(amount for amount, _comparison in payouts)
        self._notify("payout", payouts_notification(len(payouts) - comparisons, comparisons, total))

    def _flush_jobs(self) -> None:
        if not self._pending_jobs:
            return
        jobs, self._pending_jobs = self._pending_jobs, []
        if len(jobs) == 1:
            self._notify("job", activity_text(jobs[0]))
        else:
            self._notify("job", self.tr("%n of your jobs finished", "", len(jobs)))

    def _notify(self, kind: str, message: str) -> None:
        self._last_notified[kind] = time.monotonic()
        title = "HiveMind"
        self.notified.emit(title, message)
        if self.icon is not None and self.icon.supportsMessages():
            self.icon.showMessage(title, message, QSystemTrayIcon.Information, 5000)
