"""Questions asked before something that loses work or money (stopping running tasks,
cancelling a job, signing out, switching servers, joining another network).

The box is window-modal but does not block: it is opened with QMessageBox.open(), so the
app's asyncio loop (running inside Qt's) goes on while the person reads it, and the answer
comes back through a callback with the key of the choice ("cancel" for Escape or closing).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtWidgets import QMessageBox, QPushButton, QWidget

CANCEL = "cancel"


@dataclass(frozen=True)
class Choice:
    key: str
    label: str
    role: QMessageBox.ButtonRole = QMessageBox.AcceptRole
    default: bool = False


class Question:
    """One open question; `buttons` by key (tests click them as a person would)."""

    def __init__(
        self,
        parent: QWidget,
        title: str,
        text: str,
        informative: str,
        choices: list[Choice],
        on_answer: Callable[[str], None],
        *,
        icon: QMessageBox.Icon = QMessageBox.Warning,
    ) -> None:
        self.box = QMessageBox(parent)
        self.box.setIcon(icon)
        self.box.setWindowTitle(title)
        self.box.setText(text)
        self.box.setInformativeText(informative)
        self.buttons: dict[str, QPushButton] = {}
        for choice in choices:
            button = self.box.addButton(choice.label, choice.role)
            self.buttons[choice.key] = button
            if choice.default:
                self.box.setDefaultButton(button)
        if not any(choice.role == QMessageBox.RejectRole for choice in choices):
            self.buttons[CANCEL] = self.box.addButton(QMessageBox.Cancel)
        self.box.setEscapeButton(self.buttons.get(CANCEL) or self.box.escapeButton())
        self._on_answer = on_answer
        self.answer: str | None = None
        self.box.finished.connect(self._finished)

    def open(self) -> Question:
        self.box.open()
        return self

    def _finished(self, _result: int) -> None:
        clicked = self.box.clickedButton()
        self.answer = next((k for k, b in self.buttons.items() if b is clicked), CANCEL)
        self.box.deleteLater()
        self._on_answer(self.answer)
