"""The Submit tab's cost line: what submitting the job would hold in escrow at most (the
server's EstimateCost: every task, replica and comparison at its whole time limit), and
whether the submitter's own maximum cost is enough for it."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent
from PySide6.QtWidgets import QLabel, QWidget

from app.ui import models
from app.ui.texts import fill
from common.units import parse_cpt


class CostEstimate(QLabel):
    """Shows the last estimate; `max_cost_text` returns what the submitter typed as their
    maximum (empty = none), read each time the line is rendered."""

    def __init__(self, max_cost_text: Callable[[], str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWordWrap(True)
        self._max_cost_text = max_cost_text
        self.worst_case_ucpt: int | None = None
        self.error = ""

    def show_estimate(self, ucpt: int, error: str) -> None:
        """The bridge's estimate_ready: the worst case in ucpt (-1 = none), or an error."""
        self.worst_case_ucpt = ucpt if ucpt >= 0 else None
        self.error = error
        self.refresh()

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.LanguageChange:
            self.refresh()
        super().changeEvent(event)

    def refresh(self) -> None:
        """Writes the line again (a new estimate, an edited maximum, another language)."""
        if self.error:
            text = fill(self.tr("No estimate: %1"), self.error)
        elif self.worst_case_ucpt is None:
            text = ""
        else:
            text = fill(
                self.tr(
                    "Holds up to %1 until the job ends: the worst case, where every task, replica "
                    "and comparison uses its whole time limit. What is not spent is refunded."
                ),
                models.cpt(self.worst_case_ucpt),
            )
            text = sentences(text, self._max_cost_remark(self.worst_case_ucpt))
        self.setText(text)

    def _max_cost_remark(self, worst_case_ucpt: int) -> str:
        typed = self._max_cost_text().strip()
        try:
            chosen = parse_cpt(typed) if typed else 0
        except ValueError:
            return self.tr("The maximum cost is not a valid amount.")
        if chosen and chosen < worst_case_ucpt:
            return self.tr("Your maximum is below that: the server will refuse.")
        return ""


def sentences(first: str, second: str) -> str:
    """Two sentences as one text: a space between them, none after a full-width full stop
    (Chinese runs its sentences on)."""
    if not second:
        return first
    return first + second if first.endswith("。") else f"{first} {second}"
