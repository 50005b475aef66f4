"""The app's own log, in a window of its own, for when something needs explaining (to the
people who run the network, say): every line wrapped, nothing cut off, copyable."""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QFontDatabase, QGuiApplication, QTextCursor
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.ui.bridge import Bridge

MAX_LINES = 2000


class LogWindow(QDialog):
    def __init__(self, bridge: Bridge, log_file: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.resize(820, 520)
        self.intro = QLabel()
        self.intro.setWordWrap(True)
        self.intro.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self._log_file = log_file
        self.text = QPlainTextEdit()
        self.text.setReadOnly(True)
        self.text.setMaximumBlockCount(MAX_LINES)
        self.text.setLineWrapMode(QPlainTextEdit.WidgetWidth)
        self.text.setFont(QFontDatabase.systemFont(QFontDatabase.FixedFont))
        self.copy_button = QPushButton()
        self.copy_button.clicked.connect(self._copy)
        buttons = QDialogButtonBox(QDialogButtonBox.Close)
        buttons.addButton(self.copy_button, QDialogButtonBox.ActionRole)
        buttons.rejected.connect(self.close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.intro)
        layout.addWidget(self.text, 1)
        layout.addWidget(buttons)
        for line in bridge.log_history():
            self.append(line)
        bridge.log_line.connect(self.append)
        self.retranslate_ui()

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.LanguageChange:
            self.retranslate_ui()
        super().changeEvent(event)

    def retranslate_ui(self) -> None:
        self.setWindowTitle(self.tr("HiveMind log"))
        intro = self.tr(
            "What the app did, newest last. It holds no password; share it with the people "
            "who run your network when something needs explaining."
        )
        if self._log_file:
            intro += " " + self.tr("It is also saved in %1.").replace("%1", self._log_file)
        self.intro.setText(intro)
        self.copy_button.setText(self.tr("&Copy all"))
        self.text.setAccessibleName(self.tr("Log lines"))

    def append(self, line: str) -> None:
        at_end = self.text.verticalScrollBar().value() == self.text.verticalScrollBar().maximum()
        self.text.appendPlainText(line)
        if at_end:  # follow new lines unless the reader scrolled up
            self.text.moveCursor(QTextCursor.End)

    def _copy(self) -> None:
        QGuiApplication.clipboard().setText(self.text.toPlainText())
