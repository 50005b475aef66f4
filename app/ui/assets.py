"""Where the app's assets live: the source tree, or PyInstaller's bundle when frozen."""

from __future__ import annotations

import sys
from pathlib import Path

TRAY_STATES = ("sharing", "paused", "offline", "error")


def assets_dir() -> Path:
    """`assets/` beside the `app` package, or inside the frozen bundle (`sys._MEIPASS`)."""
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        return Path(bundle) / "assets"
    return Path(__file__).resolve().parents[2] / "assets"


def translations_dir() -> Path:
    return assets_dir() / "translations"


def app_icon_path() -> Path:
    return assets_dir() / "icons" / "hivemind.svg"


def tray_icon_path(state: str, dark_panel: bool) -> Path:
    """The tray glyph for `state`; `dark_panel` picks the light-on-dark variant."""
    if state not in TRAY_STATES:
        raise ValueError(f"unknown tray state {state!r}")
    return assets_dir() / "icons" / "tray" / ("dark" if dark_panel else "light") / f"{state}.svg"
