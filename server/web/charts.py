"""Charts drawn on the server as inline SVG: no script, no chart library, the same picture in
every browser. Colours come from classes in static/style.css. Every text is escaped.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from markupsafe import Markup, escape

WIDTH = 360
HEIGHT = 170
LEFT = 40  # room for the y axis labels
RIGHT = 12
TOP = 12
BOTTOM = 26  # room for the x axis labels


def nice_ceiling(value: float) -> float:
    """The smallest of 1, 2, 5 x 10^k at or above `value` (1 for nothing to show)."""
    if value <= 0 or not math.isfinite(value):
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if value <= step * power * (1 + 1e-9):
            return step * power
    return 10 * power


def format_number(value: float) -> str:
    """Short axis labels: 0.25, 3, 1.2k, 4M."""
    if value >= 1_000_000:
        return f"{value / 1_000_000:.3g}M"
    if value >= 1000:
        return f"{value / 1000:.3g}k"
    if value == int(value):
        return str(int(value))
    return f"{value:.2g}"


def _frame(width: int, height: int, title: str, body: list[str], y_max: float) -> Markup:
    plot_bottom = height - BOTTOM
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" width="{width}" height="{height}"'
        f' role="img" aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
    ]
    for fraction in (0.0, 0.5, 1.0):
        y = plot_bottom - fraction * (plot_bottom - TOP)
        parts.append(
            f'<line class="grid" x1="{LEFT}" y1="{y:.1f}" x2="{width - RIGHT}" y2="{y:.1f}"/>'
        )
        parts.append(
            f'<text class="axis" x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">'
            f"{escape(format_number(y_max * fraction))}</text>"
        )
    parts += body
    parts.append("</svg>")
    return Markup("".join(parts))


def line_chart(
    points: Sequence[tuple[float, float]],
    *,
    title: str,
    start: float,
    end: float,
    x_labels: Sequence[tuple[float, str]],
    width: int = WIDTH,
    height: int = HEIGHT,
    css_class: str = "series",
) -> Markup:
    """Values over time from `start` to `end` (unix seconds): a line through the points and
    the area under it; `x_labels` are (time, text) marks on the time axis."""
    y_max = nice_ceiling(max((value for _, value in points), default=0.0))
    span = max(end - start, 1e-9)
    plot_bottom = height - BOTTOM
    plot_width = width - LEFT - RIGHT

    def x_of(t: float) -> float:
        return LEFT + (min(max(t, start), end) - start) / span * plot_width

    def y_of(value: float) -> float:
        return plot_bottom - min(max(value, 0.0), y_max) / y_max * (plot_bottom - TOP)

    body: list[str] = []
    shown = [(x_of(t), y_of(value)) for t, value in points if start <= t <= end]
    if shown:
        line = " ".join(f"{x:.1f},{y:.1f}" for x, y in shown)
        area = f"{shown[0][0]:.1f},{plot_bottom} {line} {shown[-1][0]:.1f},{plot_bottom}"
        body.append(f'<polygon class="{css_class} area" points="{area}"/>')
        body.append(f'<polyline class="{css_class} line" points="{line}"/>')
        if len(shown) == 1:
            x, y = shown[0]
            body.append(f'<circle class="{css_class} dot" cx="{x:.1f}" cy="{y:.1f}" r="3"/>')
    for t, text in x_labels:
        body.append(
            f'<text class="axis" x="{x_of(t):.1f}" y="{height - 8}" text-anchor="middle">'
            f"{escape(text)}</text>"
        )
    return _frame(width, height, title, body, y_max)


def bar_chart(
    bars: Sequence[tuple[str, float]],
    *,
    title: str,
    width: int = WIDTH,
    height: int = HEIGHT,
    css_class: str = "series",
    label_every: int = 1,
) -> Markup:
    """One bar per (label, value), left to right; every `label_every`-th bar is labelled.
    Negative values (a day whose clawbacks exceeded its payouts) draw as nothing."""
    y_max = nice_ceiling(max((value for _, value in bars), default=0.0))
    plot_bottom = height - BOTTOM
    plot_width = width - LEFT - RIGHT
    slot = plot_width / max(len(bars), 1)
    body: list[str] = []
    for index, (label, value) in enumerate(bars):
        bar_height = max(value, 0.0) / y_max * (plot_bottom - TOP)
        x = LEFT + index * slot + slot * 0.15
        body.append(
            f'<rect class="{css_class} bar" x="{x:.1f}" y="{plot_bottom - bar_height:.1f}"'
            f' width="{slot * 0.7:.1f}" height="{bar_height:.1f}">'
            f"<title>{escape(label)}: {escape(format_number(value))}</title></rect>"
        )
        if index % max(label_every, 1) == 0:
            body.append(
                f'<text class="axis" x="{x + slot * 0.35:.1f}" y="{height - 8}"'
                f' text-anchor="middle">{escape(label)}</text>'
            )
    return _frame(width, height, title, body, y_max)
