"""Collects what a person can read on screen, to check that a language switch left no
English behind."""

from __future__ import annotations

import re

from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractSpinBox,
    QComboBox,
    QGroupBox,
    QLabel,
    QLineEdit,
    QListWidget,
    QProgressBar,
    QSpinBox,
    QTableWidget,
    QTabWidget,
    QWidget,
)

from app.ui.partials.charts import BarChart, LineChart

# Words that stay as they are in every language: the product, units, formats, technologies.
UNTRANSLATED = {
    "HiveMind",
    "CPT",
    "MB",
    "GB",
    "KB",
    "TLS",
    "CA",
    "CSV",
    "UTC",
    "Docker",
    "NVIDIA",
    "Zip",
    "zip",
    "hivemind",
    "toml",
    "pem",
    "crt",
}
WORD = re.compile(r"[A-Za-z]{2,}")
# Ids of jobs, nodes and attempts ("job-3f9a…") are data, not words.
IDENTIFIER = re.compile(r"\b[a-z]+-[0-9a-f]{6,}\b")
# So are file paths (the cache folder, where the autostart entry is written).
PATH = re.compile(r"\S*[/\\]\S*")


def visible_texts(root: QWidget) -> list[str]:
    """The strings shown by `root` and its visible children. What the user typed (line
    edits) and data (table cells: job ids and names) are not UI text and are skipped."""
    texts: list[str] = []
    for widget in [root, *root.findChildren(QWidget)]:
        if not widget.isVisibleTo(root) and widget is not root:
            continue
        if isinstance(widget, (QLabel, QAbstractButton)):
            texts.append(widget.text())
        elif isinstance(widget, QGroupBox):
            texts.append(widget.title())
        elif isinstance(widget, QTabWidget):
            texts += [widget.tabText(i) for i in range(widget.count())]
        elif isinstance(widget, QTableWidget):
            texts += [
                widget.horizontalHeaderItem(i).text()
                for i in range(widget.columnCount())
                if widget.horizontalHeaderItem(i) is not None
            ]
        elif isinstance(widget, QLineEdit) and not widget.text():
            texts.append(widget.placeholderText())
        elif isinstance(widget, QComboBox):
            texts.append(widget.currentText())
        elif isinstance(widget, QSpinBox):
            if widget.value() == widget.minimum() and widget.specialValueText():
                texts.append(widget.specialValueText())
            texts += [widget.prefix(), widget.suffix()]
        elif isinstance(widget, QAbstractSpinBox):
            continue
        elif isinstance(widget, QProgressBar):
            texts.append(widget.text())
        elif isinstance(widget, QListWidget):
            texts += [widget.item(i).text() for i in range(widget.count())]
        elif isinstance(widget, LineChart):
            texts.append(widget.title)
            texts += [name for name, _color, _values in widget._series]
        elif isinstance(widget, BarChart):
            texts.append(widget.title)
        texts.append(widget.toolTip() if isinstance(widget, QAbstractButton) else "")
    return [text for text in texts if text]


def english_words(texts: list[str], also_allowed: set[str] = frozenset()) -> list[str]:
    """Each text that still holds an English word, with the words."""
    left = []
    for text in texts:
        words = [
            w
            for w in WORD.findall(PATH.sub("", IDENTIFIER.sub("", text)))
            if w not in UNTRANSLATED | also_allowed
        ]
        if words:
            left.append(f"{text!r}: {words}")
    return left
