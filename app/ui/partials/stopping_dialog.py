"""What the app shows while it quits: that it is stopping, how many tasks it is finishing (or
handing back), and a "Stop now" that hands back what is left. A quick quit never shows it."""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt, QTimer
from PySide6.QtWidgets import QDialog, QLabel, QProgressBar, QPushButton, QVBoxLayout, QWidget

from app.ui import models
from app.ui.bridge import Bridge
from app.ui.texts import state_text

SHOW_AFTER_MS = 400


class StoppingDialog(QDialog):
    def __init__(self, bridge: Bridge, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._bridge = bridge
        self.setWindowModality(Qt.ApplicationModal)
        self.setWindowFlag(Qt.WindowCloseButtonHint, False)
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.label.setMinimumWidth(320)
        self.bar = QProgressBar()
        self.bar.setRange(0, 0)  # busy: how long a task takes is not known
        self.bar.setTextVisible(False)
        self.stop_now_button = QPushButton()
        self.stop_now_button.clicked.connect(bridge.stop_now)
        layout = QVBoxLayout(self)
        layout.addWidget(self.label)
        layout.addWidget(self.bar)
        layout.addWidget(self.stop_now_button, 0, Qt.AlignRight)
        self._state = bridge.sharing_state
        bridge.sharing_changed.connect(self._show_state)
        self._show_timer = QTimer(self)
        self._show_timer.setSingleShot(True)
        self._show_timer.timeout.connect(self.show)
        self.retranslate_ui()

    def start(self) -> None:
        """Shows the dialog unless the quit is over within SHOW_AFTER_MS."""
        self._show_timer.start(SHOW_AFTER_MS)

    def finish(self) -> None:
        self._show_timer.stop()
        self.close()

    def reject(self) -> None:
        pass  # Escape does not cancel quitting

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.LanguageChange:
            self.retranslate_ui()
        super().changeEvent(event)

    def retranslate_ui(self) -> None:
        self.setWindowTitle(self.tr("Quitting HiveMind"))
        self.stop_now_button.setText(self.tr("Hand them back now"))
        self.stop_now_button.setToolTip(
            self.tr("Stop the tasks now: they run again on another computer, unpaid here")
        )
        self._show_state(self._state)

    def _show_state(self, state: models.SharingState) -> None:
        self._state = state
        finishing = state.state == models.STOPPING
        self.stop_now_button.setVisible(finishing)
        self.label.setText(
            state_text(state) if finishing else self.tr("Stopping sharing and closing…")
        )
