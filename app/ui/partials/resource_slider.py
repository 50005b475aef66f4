"""A labelled slider for one resource: shows the chosen amount with its unit and the machine's
total, and reports the value once the user settles on it (not on every pixel of a drag), so
the worker is not reconfigured thirty times a second.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSlider, QWidget

SETTLE_MS = 250


class ResourceSlider(QWidget):
    """`committed(value)` fires when the value has been still for SETTLE_MS or on release."""

    committed = Signal(int)

    def __init__(
        self,
        minimum: int,
        maximum: int,
        step: int = 1,
        parent: QWidget | None = None,
        *,
        key_step: int | None = None,
    ) -> None:
        """Values snap to `step`; an arrow key moves `key_step` (default `step`), Page Up and
        Down four times that (memory: 64 MB blocks, 256 MB a key press, 1 GB a page)."""
        super().__init__(parent)
        self.slider = QSlider(Qt.Horizontal)
        self.slider.setRange(minimum, max(minimum, maximum))
        self.slider.setSingleStep(key_step or step)
        self.slider.setPageStep((key_step or step) * 4)
        self.value_label = QLabel()
        self.value_label.setMinimumWidth(190)
        self.describe: Callable[[int], str] = str
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.slider, 1)
        layout.addWidget(self.value_label)
        self._step = step
        self._settle = QTimer(self)
        self._settle.setSingleShot(True)
        self._settle.setInterval(SETTLE_MS)
        self._settle.timeout.connect(self._commit)
        self._last_committed: int | None = None
        self.slider.valueChanged.connect(self._on_value_changed)
        self.slider.sliderReleased.connect(self._commit)

    def value(self) -> int:
        return self.slider.value()

    def set_value(self, value: int) -> None:
        """Shows `value` without reporting it (used when loading settings)."""
        self.slider.blockSignals(True)
        self.slider.setValue(value)
        self.slider.blockSignals(False)
        self._last_committed = self.slider.value()
        self.refresh_label()

    def set_maximum(self, maximum: int) -> None:
        self.slider.blockSignals(True)
        self.slider.setMaximum(max(self.slider.minimum(), maximum))
        self.slider.blockSignals(False)
        self.refresh_label()

    def refresh_label(self) -> None:
        text = self.describe(self.slider.value())
        self.value_label.setText(text)
        self.slider.setAccessibleDescription(text)  # what a screen reader says as the value

    def _on_value_changed(self, value: int) -> None:
        if self._step > 1 and value % self._step and value != self.slider.maximum():
            # Snap to the step so memory moves in whole 64 MB blocks.
            self.slider.setValue(round(value / self._step) * self._step)
            return
        self.refresh_label()
        if not self.slider.isSliderDown():
            self._settle.start()

    def _commit(self) -> None:
        self._settle.stop()
        value = self.slider.value()
        if value != self._last_committed:
            self._last_committed = value
            self.committed.emit(value)
