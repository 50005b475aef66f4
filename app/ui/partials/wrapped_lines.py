"""A list whose long lines wrap instead of running off the right edge, in every language."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QSize, Qt
from PySide6.QtWidgets import (
    QListView,
    QListWidget,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QWidget,
)


class _RoomForFallbackLines(QStyledItemDelegate):
    """Qt sizes a wrapped item by the lines of its own font, but paints Chinese text in a
    fallback font whose lines are a few pixels taller; the painter then finds the second line
    does not fit and elides the rest ("比對…失敗：compare …"). A little slack per line keeps it."""

    def sizeHint(
        self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> QSize:
        hint = super().sizeHint(option, index)
        line_height = max(1, option.fontMetrics.height())
        lines = max(1, round(hint.height() / line_height))
        return QSize(hint.width(), hint.height() + lines * max(2, line_height // 4))


def wrapped_line_list(parent: QWidget | None = None) -> QListWidget:
    """A QListWidget that wraps its items' text to its width (no horizontal scrolling)."""
    lines = QListWidget(parent)
    lines.setWordWrap(True)
    lines.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
    lines.setResizeMode(QListView.Adjust)  # re-wrap when the width changes
    lines.setItemDelegate(_RoomForFallbackLines(lines))
    return lines
