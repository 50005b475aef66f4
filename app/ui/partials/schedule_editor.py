"""A week grid (7 days x 24 hours): click or drag to mark the hours when sharing is allowed,
or move with the arrow keys and mark with Space (Shift+arrow marks as it moves).

The grid converts to and from the settings' `ScheduleWindow`s (days + "HH:MM" start/end):
each run of marked hours becomes a window, and days with the same runs share a window.
`schedule_summary` says the same in words.
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, QLocale, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPalette, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from app.services.settings import ScheduleWindow

HOURS = 24
DAYS = 7
LABEL_WIDTH = 46
HEADER_HEIGHT = 18

Grid = list[list[bool]]  # [day][hour], day 0 = Monday


def windows_to_grid(windows: list[ScheduleWindow]) -> Grid:
    grid = [[False] * HOURS for _ in range(DAYS)]
    for window in windows:
        start = _hour(window.start)
        end = _hour(window.end, round_up=True)
        for day in window.days:
            if not 0 <= day < DAYS:
                continue
            hours = range(start, end) if start < end else [*range(start, HOURS), *range(end)]
            for hour in hours:
                grid[day][hour] = True
    return grid


def grid_to_windows(grid: Grid) -> list[ScheduleWindow]:
    runs_by_day: dict[tuple[int, int], list[int]] = {}
    for day in range(DAYS):
        hour = 0
        while hour < HOURS:
            if not grid[day][hour]:
                hour += 1
                continue
            start = hour
            while hour < HOURS and grid[day][hour]:
                hour += 1
            runs_by_day.setdefault((start, hour), []).append(day)
    windows = [
        ScheduleWindow(days=days, start=f"{start:02d}:00", end=f"{end:02d}:00")
        for (start, end), days in runs_by_day.items()
    ]
    return sorted(windows, key=lambda w: (w.days[0], w.start))


def _day_runs(days: list[int]) -> str:
    """[0, 1, 2, 4] -> "Mon–Wed, Fri" in the UI's language."""
    locale = QLocale()
    name = lambda day: locale.dayName(day + 1, QLocale.ShortFormat)  # noqa: E731
    runs: list[list[int]] = []
    for day in sorted(days):
        if runs and day == runs[-1][-1] + 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    return ", ".join(
        name(run[0]) if len(run) == 1 else f"{name(run[0])}–{name(run[-1])}" for run in runs
    )


def schedule_summary(windows: list[ScheduleWindow]) -> str:
    """The marked hours in words: "Mon–Fri 18:00–24:00; Sat–Sun all day"; "" for none."""
    translate = QCoreApplication.translate
    if grid_to_windows(windows_to_grid(windows)) == [
        ScheduleWindow(days=list(range(DAYS)), start="00:00", end="24:00")
    ]:
        return translate("ScheduleEditor", "every day, all day")
    parts = []
    for window in grid_to_windows(windows_to_grid(windows)):
        hours = (
            translate("ScheduleEditor", "all day")
            if (window.start, window.end) == ("00:00", "24:00")
            else f"{window.start}–{window.end}"
        )
        parts.append(f"{_day_runs(window.days)} {hours}")
    return "; ".join(parts)


def _hour(text: str, round_up: bool = False) -> int:
    hours, _, minutes = text.partition(":")
    hour = int(hours)
    if round_up and minutes and int(minutes) > 0:
        hour += 1
    return max(0, min(HOURS, hour))


class ScheduleEditor(QWidget):
    """Emits `changed` with the new windows when the user finishes a click or a drag."""

    changed = Signal(list)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._grid: Grid = [[True] * HOURS for _ in range(DAYS)]
        self._paint_value: bool | None = None
        self._last_cell: tuple[int, int] | None = None
        self.cursor: tuple[int, int] = (0, 0)  # (day, hour) the keyboard works on
        self.setMinimumSize(LABEL_WIDTH + HOURS * 12, HEADER_HEIGHT + DAYS * 18)
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Fixed)
        self.setFocusPolicy(Qt.StrongFocus)

    def sizeHint(self) -> QSize:
        return QSize(LABEL_WIDTH + HOURS * 20, HEADER_HEIGHT + DAYS * 20)

    def set_windows(self, windows: list[ScheduleWindow]) -> None:
        self._grid = windows_to_grid(windows)
        self.update()

    def windows(self) -> list[ScheduleWindow]:
        return grid_to_windows(self._grid)

    def grid(self) -> Grid:
        return [row[:] for row in self._grid]

    def _cell_size(self) -> tuple[float, float]:
        return (
            (self.width() - LABEL_WIDTH) / HOURS,
            (self.height() - HEADER_HEIGHT) / DAYS,
        )

    def _cell_at(self, x: float, y: float) -> tuple[int, int] | None:
        width, height = self._cell_size()
        hour = int((x - LABEL_WIDTH) // width)
        day = int((y - HEADER_HEIGHT) // height)
        if 0 <= day < DAYS and 0 <= hour < HOURS and x >= LABEL_WIDTH and y >= HEADER_HEIGHT:
            return day, hour
        return None

    def toggle(self, day: int, hour: int) -> None:
        """Flips one hour and reports the new windows (also what a click does)."""
        self._grid[day][hour] = not self._grid[day][hour]
        self.update()
        self.changed.emit(self.windows())

    def keyPressEvent(self, event) -> None:
        moves = {
            Qt.Key_Left: (0, -1),
            Qt.Key_Right: (0, 1),
            Qt.Key_Up: (-1, 0),
            Qt.Key_Down: (1, 0),
        }
        day, hour = self.cursor
        key = event.key()
        if key in moves:
            step_day, step_hour = moves[key]
            target = (
                max(0, min(DAYS - 1, day + step_day)),
                max(0, min(HOURS - 1, hour + step_hour)),
            )
            if event.modifiers() & Qt.ShiftModifier and target != self.cursor:
                # Shift+arrow carries the hour's mark along, like a drag.
                value = self._grid[day][hour]
                if self._grid[target[0]][target[1]] != value:
                    self._grid[target[0]][target[1]] = value
                    self.changed.emit(self.windows())
            self.cursor = target
        elif key == Qt.Key_Home:
            self.cursor = (day, 0)
        elif key == Qt.Key_End:
            self.cursor = (day, HOURS - 1)
        elif key in (Qt.Key_Space, Qt.Key_Return, Qt.Key_Enter):
            self.toggle(day, hour)
        else:
            super().keyPressEvent(event)
            return
        self.update()

    def mousePressEvent(self, event) -> None:
        cell = self._cell_at(event.position().x(), event.position().y())
        if cell is None:
            return
        day, hour = cell
        self.cursor = cell
        self._paint_value = not self._grid[day][hour]
        self._grid[day][hour] = self._paint_value
        self._last_cell = cell
        self.update()

    def mouseMoveEvent(self, event) -> None:
        if self._paint_value is None:
            return
        cell = self._cell_at(event.position().x(), event.position().y())
        if cell is None:
            return
        # A fast drag skips cells between two move events: fill the rectangle between.
        last = self._last_cell or cell
        for day in range(min(last[0], cell[0]), max(last[0], cell[0]) + 1):
            for hour in range(min(last[1], cell[1]), max(last[1], cell[1]) + 1):
                self._grid[day][hour] = self._paint_value
        self._last_cell = cell
        self.update()

    def mouseReleaseEvent(self, _event) -> None:
        if self._paint_value is not None:
            self._paint_value = None
            self.changed.emit(self.windows())

    def paintEvent(self, _event) -> None:
        painter = QPainter(self)
        palette = self.palette()
        text = palette.color(QPalette.WindowText)
        on = QColor("#2e9e5b") if self.isEnabled() else palette.color(QPalette.Mid)
        off = palette.color(QPalette.Base)
        width, height = self._cell_size()
        locale = QLocale()
        painter.setPen(text)
        for hour in range(0, HOURS, 3):
            painter.drawText(
                QRectF(LABEL_WIDTH + hour * width, 0, width * 3, HEADER_HEIGHT),
                Qt.AlignLeft | Qt.AlignVCenter,
                f"{hour:02d}",
            )
        for day in range(DAYS):
            top = HEADER_HEIGHT + day * height
            # Qt numbers days 1 = Monday .. 7 = Sunday.
            painter.setPen(text)
            painter.drawText(
                QRectF(0, top, LABEL_WIDTH - 4, height),
                Qt.AlignRight | Qt.AlignVCenter,
                locale.dayName(day + 1, QLocale.ShortFormat),
            )
            for hour in range(HOURS):
                cell = QRectF(LABEL_WIDTH + hour * width, top, width, height)
                painter.fillRect(cell.adjusted(1, 1, -1, -1), on if self._grid[day][hour] else off)
        painter.setPen(QPen(palette.color(QPalette.Mid), 1))
        painter.drawRect(
            QRectF(LABEL_WIDTH, HEADER_HEIGHT, width * HOURS, height * DAYS).adjusted(0, 0, -1, -1)
        )
        if self.hasFocus():
            day, hour = self.cursor
            cell = QRectF(LABEL_WIDTH + hour * width, HEADER_HEIGHT + day * height, width, height)
            painter.setPen(QPen(palette.color(QPalette.Highlight), 2))
            painter.drawRect(cell.adjusted(1, 1, -1, -1))
        painter.end()
