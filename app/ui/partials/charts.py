"""Small charts drawn with QPainter: a live line chart (CPU / memory over time), a bar chart
(earnings per day) and the metrics of a job's rounds. QtCharts lives in PySide6-Addons, which
would more than double the installer for a few plots. Each says in words what it shows (its
accessible name and description), for a screen reader.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

from PySide6.QtCore import QCoreApplication, QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPalette, QPen
from PySide6.QtWidgets import QSizePolicy, QToolTip, QWidget

from app.ui.texts import fill

MARGIN_LEFT = 38
MARGIN_RIGHT = 10
MARGIN_TOP = 24
MARGIN_BOTTOM = 20


class _Titled(QWidget):
    @property
    def title(self) -> str:
        return self._title

    @title.setter
    def title(self, text: str) -> None:
        self._title = text
        self.setAccessibleName(text)
        self.update()


class LineChart(_Titled):
    """Percent-over-time lines with a legend; `add_sample` appends one value per series."""

    def __init__(self, capacity: int = 120, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._capacity = capacity
        self._series: list[tuple[str, QColor, deque[float]]] = []
        self.title = ""
        self.setMinimumHeight(140)
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Expanding)

    def describe(self) -> str:
        """The latest values in words: "This computer 23%, HiveMind 12%"."""
        return ", ".join(
            f"{name} {values[-1]:.0f}%" for name, _color, values in self._series if values
        )

    def add_series(self, color: str) -> int:
        self._series.append(("", QColor(color), deque(maxlen=self._capacity)))
        return len(self._series) - 1

    def set_series_name(self, index: int, name: str) -> None:
        _old, color, values = self._series[index]
        self._series[index] = (name, color, values)
        self.setAccessibleDescription(self.describe())
        self.update()

    def add_sample(self, values: list[float]) -> None:
        for (_name, _color, series), value in zip(self._series, values, strict=False):
            series.append(max(0.0, min(100.0, float(value))))
        self.setAccessibleDescription(self.describe())
        self.update()

    def latest(self, index: int) -> float | None:
        values = self._series[index][2]
        return values[-1] if values else None

    def sizeHint(self) -> QSize:
        return QSize(360, 170)

    def paintEvent(self, _event) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.Antialiasing)
        palette = self.palette()
        text = palette.color(QPalette.WindowText)
        plot = QRectF(
            MARGIN_LEFT,
            MARGIN_TOP,
            self.width() - MARGIN_LEFT - MARGIN_RIGHT,
            self.height() - MARGIN_TOP - MARGIN_BOTTOM,
        )
        painter.fillRect(plot, palette.color(QPalette.Base))
        _draw_title(painter, self.title, text)
        grid = QColor(text)
        grid.setAlpha(40)
        for percent in (0, 50, 100):
            y = plot.bottom() - plot.height() * percent / 100
            painter.setPen(QPen(grid, 1))
            painter.drawLine(QPointF(plot.left(), y), QPointF(plot.right(), y))
            painter.setPen(text)
            painter.drawText(
                QRectF(0, y - 8, MARGIN_LEFT - 6, 16),
                Qt.AlignRight | Qt.AlignVCenter,
                f"{percent}%",
            )
        step = plot.width() / max(1, self._capacity - 1)
        for _name, color, values in self._series:
            if len(values) < 2:
                continue
            path = QPainterPath()
            start = self._capacity - len(values)
            for i, value in enumerate(values):
                point = QPointF(
                    plot.left() + (start + i) * step, plot.bottom() - plot.height() * value / 100
                )
                if i == 0:
                    path.moveTo(point)
                else:
                    path.lineTo(point)
            painter.setPen(QPen(color, 2))
            painter.drawPath(path)
        # Legend, top right, with each series' latest value.
        x = plot.right()
        metrics = painter.fontMetrics()
        for name, color, values in reversed(self._series):
            label = f"{name} {values[-1]:.0f}%" if values else name
            width = metrics.horizontalAdvance(label)
            x -= width
            painter.setPen(text)
            painter.drawText(QPointF(x, MARGIN_TOP - 8), label)
            x -= 14
            painter.fillRect(QRectF(x, MARGIN_TOP - 16, 10, 10), color)
            x -= 12
        painter.end()


class BarChart(_Titled):
    """One bar per label (earnings per day); hovering a bar shows its exact value."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._bars: list[tuple[str, int]] = []
        self.title = ""
        self.value_text: Callable[[int], str] = str
        self.color = QColor("#e0a100")
        self.negative_color = QColor("#c0392b")  # a day that gave back more than it earned
        self.setMinimumHeight(160)
        self.setMouseTracking(True)
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Expanding)

    def set_bars(self, bars: list[tuple[str, int]]) -> None:
        self._bars = list(bars)
        self.setAccessibleDescription(self.describe())
        self.update()

    def describe(self) -> str:
        """The bars in words: how many days, the best one and what it earned."""
        translate = QCoreApplication.translate
        if not any(value for _label, value in self._bars):
            return fill(translate("Chart", "Nothing earned in these %1 days."), len(self._bars))
        label, value = max(self._bars, key=lambda bar: bar[1])
        return fill(
            translate("Chart", "%1 days; the best was %2, with %3."),
            len(self._bars),
            label,
            self.value_text(value),
        )

    def bars(self) -> list[tuple[str, int]]:
        return list(self._bars)

    def sizeHint(self) -> QSize:
        return QSize(480, 200)

    def _range(self) -> tuple[int, int]:
        """(lowest, highest) of the axis: 0 is always on it. A day can be negative when more
        was taken back (clawbacks) than earned; such bars hang below the zero line."""
        values = [value for _label, value in self._bars]
        return min([0, *values]), max([0, *values])

    def _plot_rect(self) -> QRectF:
        # Room on the left for the longest value label, however long the amount is.
        low, high = self._range()
        label = max(
            (self.fontMetrics().horizontalAdvance(self.value_text(v)) for v in (low, high)),
            default=0,
        )
        left = max(MARGIN_LEFT, label + 10)
        return QRectF(
            left,
            MARGIN_TOP,
            self.width() - left - MARGIN_RIGHT,
            self.height() - MARGIN_TOP - MARGIN_BOTTOM,
        )

    def _bar_at(self, x: float) -> int | None:
        plot = self._plot_rect()
        if not self._bars or not plot.left() <= x <= plot.right():
            return None
        index = int((x - plot.left()) / (plot.width() / len(self._bars)))
        return min(index, len(self._bars) - 1)

    def mouseMoveEvent(self, event) -> None:
        index = self._bar_at(event.position().x())
        if index is None:
            QToolTip.hideText()
            return
        label, value = self._bars[index]
        QToolTip.showText(event.globalPosition().toPoint(), f"{label}: {self.value_text(value)}")

    def paintEvent(self, _event) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.Antialiasing)
        palette = self.palette()
        text = palette.color(QPalette.WindowText)
        plot = self._plot_rect()
        painter.fillRect(plot, palette.color(QPalette.Base))
        _draw_title(painter, self.title, text)
        low, high = self._range()
        span = high - low
        zero_y = plot.top() + plot.height() * high / span if span else plot.bottom()
        painter.setPen(text)
        for value, y in ((high, plot.top()), (0, zero_y), (low, plot.bottom())):
            if value == 0 and y != zero_y:
                continue  # the zero line is labelled once, where it is
            painter.drawText(
                QRectF(0, y - 8, plot.left() - 6, 16),
                Qt.AlignRight | Qt.AlignVCenter,
                self.value_text(value) if value else "0",
            )
        if low < 0:
            painter.drawLine(QPointF(plot.left(), zero_y), QPointF(plot.right(), zero_y))
        if self._bars:
            slot = plot.width() / len(self._bars)
            for i, (label, value) in enumerate(self._bars):
                height = plot.height() * abs(value) / span if span else 0
                bar = QRectF(
                    plot.left() + i * slot + slot * 0.15,
                    zero_y - height if value > 0 else zero_y,
                    slot * 0.7,
                    height,
                )
                painter.fillRect(bar, self.color if value > 0 else self.negative_color)
                # Label every 7th day back from the last, so the axis stays readable.
                if (len(self._bars) - 1 - i) % 7 == 0:
                    painter.setPen(text)
                    painter.drawText(
                        QRectF(plot.left() + i * slot - 30, plot.bottom() + 2, slot + 60, 16),
                        Qt.AlignHCenter | Qt.AlignTop,
                        label[5:] if len(label) == 10 else label,
                    )
        painter.end()


class RoundChart(QWidget):
    """A job's metrics round by round (what its aggregates wrote to metrics.json): one line
    per metric, each scaled to its own range, the latest value of each in the legend."""

    COLORS = ("#2f80ed", "#e0a100", "#27ae60")

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._series: list[tuple[str, list[tuple[int, float]]]] = []
        self.title = ""
        self.setMinimumHeight(120)
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Preferred)

    def set_rounds(self, rounds: list[tuple[int, dict[str, float]]]) -> None:
        """(round, metrics) of each round that has some; the first metrics by name are drawn."""
        names = sorted({name for _, metrics in rounds for name in metrics})[: len(self.COLORS)]
        self._series = [
            (name, [(index, metrics[name]) for index, metrics in rounds if name in metrics])
            for name in names
        ]
        self.update()

    def series(self) -> list[tuple[str, list[tuple[int, float]]]]:
        return list(self._series)

    def sizeHint(self) -> QSize:
        return QSize(360, 140)

    def paintEvent(self, _event) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.Antialiasing)
        palette = self.palette()
        text = palette.color(QPalette.WindowText)
        plot = QRectF(
            MARGIN_RIGHT,
            MARGIN_TOP,
            self.width() - 2 * MARGIN_RIGHT,
            self.height() - MARGIN_TOP - MARGIN_BOTTOM,
        )
        painter.fillRect(plot, palette.color(QPalette.Base))
        _draw_title(painter, self.title, text)
        last = max((index for _, points in self._series for index, _ in points), default=0)
        step = plot.width() / max(1, last)
        legend = []
        for (name, points), color in zip(self._series, self.COLORS, strict=False):
            values = [value for _, value in points]
            low, high = min(values), max(values)
            span = (high - low) or 1.0
            path = QPainterPath()
            for i, (index, value) in enumerate(points):
                point = QPointF(
                    plot.left() + index * step,
                    plot.bottom() - plot.height() * (value - low) / span,
                )
                if i == 0:
                    path.moveTo(point)
                else:
                    path.lineTo(point)
                painter.fillRect(QRectF(point.x() - 2, point.y() - 2, 4, 4), QColor(color))
            painter.setPen(QPen(QColor(color), 2))
            painter.drawPath(path)
            legend.append((f"{name} {values[-1]:.4g}", QColor(color)))
        painter.setPen(text)
        axis = QRectF(plot.left(), plot.bottom() + 2, plot.width(), 16)
        painter.drawText(axis, Qt.AlignLeft | Qt.AlignTop, "1")  # rounds as people count
        if last:
            painter.drawText(axis, Qt.AlignRight | Qt.AlignTop, f"{last + 1}")
        x = plot.right()
        metrics = painter.fontMetrics()
        for label, color in reversed(legend):
            x -= metrics.horizontalAdvance(label)
            painter.setPen(text)
            painter.drawText(QPointF(x, MARGIN_TOP - 8), label)
            x -= 14
            painter.fillRect(QRectF(x, MARGIN_TOP - 16, 10, 10), color)
            x -= 12
        painter.end()


def _draw_title(painter: QPainter, title: str, color: QColor) -> None:
    if not title:
        return
    font = painter.font()
    font.setBold(True)
    painter.save()
    painter.setFont(font)
    painter.setPen(color)
    painter.drawText(QPointF(4, 14), title)
    painter.restore()
