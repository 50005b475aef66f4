"""`hivemind app`: opens the desktop app (tray + window), or checks it with --smoke-test."""

from __future__ import annotations

import argparse
import sys
from typing import Any


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "app",
        help="open the desktop app (tray and window)",
        description="Opens the HiveMind desktop app. --smoke-test builds every tab offscreen, "
        "checks the tray or its fallback, and exits 0 (installers use it).",
    )
    # The arguments are the GUI entry point's own; imported lazily so that `hivemind` works
    # on a headless machine without PySide6.
    from app.ui.main import add_arguments

    add_arguments(parser)
    parser.set_defaults(handler=open_app)


def open_app(args: Any) -> int:
    try:
        import PySide6  # noqa: F401
        import qasync  # noqa: F401
    except ImportError as exc:
        print(
            f"error: the desktop app needs PySide6 and qasync ({exc.name} is missing): "
            "pip install 'hivemind-platform[desktop]'",
            file=sys.stderr,
        )
        return 1
    from app.ui.main import run

    return run(args)
