"""A status line for forms: what happened and what to do, in red when it is a problem, with a
"Details" disclosure that shows the raw text (the server's own words) when there is one."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QToolButton, QVBoxLayout, QWidget

from app.ui import models
from app.ui.problems import problem_text

ERROR_STYLE = "color: #c0392b;"


class ProblemLine(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.details_button = QToolButton()
        self.details_button.setCheckable(True)
        self.details_button.setAutoRaise(True)
        self.details_button.setToolButtonStyle(Qt.ToolButtonTextBesideIcon)
        self.details_button.toggled.connect(self._show_details)
        self.details = QLabel()
        self.details.setWordWrap(True)
        self.details.setTextInteractionFlags(Qt.TextSelectableByMouse | Qt.TextSelectableByKeyboard)
        self.details.setStyleSheet("color: palette(placeholder-text);")
        self.details.hide()
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.label, 1)
        row.addWidget(self.details_button, 0, Qt.AlignTop)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)
        layout.addWidget(self.details)
        self._problem: models.Problem | None = None
        self._message: str | Callable[[], str] = ""
        self._raw = ""
        self._error = False
        self._render()

    # -- what to show -----------------------------------------------------------------------

    def show_problem(self, problem: models.Problem | None) -> None:
        """A problem in red, with its raw text behind Details; None clears the line."""
        self._problem, self._message, self._error = problem, "", problem is not None
        self._raw = problem.raw.strip() if problem is not None else ""
        self.details_button.setChecked(False)
        self._render()

    def show_text(
        self, text: str | Callable[[], str], error: bool = False, details: str = ""
    ) -> None:
        """A line of the app's own (a callable follows a later language switch), with the
        raw `details` behind the disclosure when given."""
        self._problem, self._message, self._error = None, text, error
        self._raw = details.strip()
        self.details_button.setChecked(False)
        self._render()

    def clear(self) -> None:
        self.show_text("")

    @property
    def problem(self) -> models.Problem | None:
        return self._problem

    @property
    def is_error(self) -> bool:
        return self._error

    def text(self) -> str:
        return self.label.text()

    # -- rendering --------------------------------------------------------------------------

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.LanguageChange:
            self._render()
        super().changeEvent(event)

    def _render(self) -> None:
        problem, raw = self._problem, self._raw
        if problem is not None:
            text = problem_text(problem)
        else:
            text = self._message() if callable(self._message) else self._message
        self.label.setText(text)
        self.label.setStyleSheet(ERROR_STYLE if self._error else "")
        self.label.setAccessibleName(text)
        self.details.setText(raw)
        self.details_button.setText(self.tr("Details"))
        self.details_button.setToolTip(self.tr("Show what the server or the system said"))
        self.details_button.setVisible(bool(raw))
        self._show_details(self.details_button.isChecked())
        self.setVisible(bool(text))

    def _show_details(self, shown: bool) -> None:
        self.details.setVisible(shown and bool(self.details.text()))
        self.details_button.setArrowType(Qt.DownArrow if shown else Qt.RightArrow)
