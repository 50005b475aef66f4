"""`hivemind-app` (and `hivemind app`): the desktop app's entry point."""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
import time
from pathlib import Path

SIGNAL_POLL_MS = 500
# bench/app_footprint.py: the app writes this file when its tray is ready.
READY_FILE_ENV = "HIVEMIND_READY_FILE"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hivemind-app", description="HiveMind desktop app: share this computer, earn CPT."
    )
    add_arguments(parser)
    return parser


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--smoke-test",
        action="store_true",
        help="build the window and every tab offscreen, check the tray or its fallback, exit",
    )
    parser.add_argument(
        "--background", action="store_true", help="start in the tray without showing the window"
    )
    parser.add_argument("--home", type=Path, help="settings and identity folder ($HIVEMIND_HOME)")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return run(args)


def run(args: argparse.Namespace) -> int:
    if args.home:
        os.environ["HIVEMIND_HOME"] = str(Path(args.home).expanduser())
    if args.smoke_test:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # as smoke_test() will
    # Before any QApplication: Qt's own message for a missing system library is generic, and
    # then it aborts.
    from app.ui.system_libraries import desktop_libraries_problem

    problem = desktop_libraries_problem()
    if problem:
        print(problem, file=sys.stderr)
        return 1
    if args.smoke_test:
        from app.ui.smoke import smoke_test

        return smoke_test()
    return run_app(background=args.background)


def run_app(background: bool = False) -> int:
    import qasync
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from app.services.settings import default_home
    from app.ui.application import HiveMindApp
    from app.ui.qt_compat import guard_signal_emit_refcount
    from app.ui.single_instance import ask_running_instance_to_raise

    guard_signal_emit_refcount()
    qt_app = QApplication(sys.argv[:1])
    home = default_home()
    if ask_running_instance_to_raise(home):
        print("HiveMind is already running; its window was brought to the front.")
        return 0
    loop = qasync.QEventLoop(qt_app)
    asyncio.set_event_loop(loop)
    with loop:
        hivemind = HiveMindApp(qt_app, home, log_dir=home / "logs")
        # Python only runs signal handlers between bytecodes; a timer gives it the chance
        # while Qt waits for events.
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: hivemind.quit())
        ticker = QTimer()
        ticker.start(SIGNAL_POLL_MS)
        ticker.timeout.connect(lambda: None)
        loop.call_soon(hivemind.start, not background)
        ready_file = os.environ.get(READY_FILE_ENV)
        if ready_file:
            # Runs once the loop turns after start(): the tray (or its fallback) is up.
            loop.call_soon(lambda: Path(ready_file).write_text(f"{time.time()}\n"))
        loop.run_until_complete(hivemind.finished.wait())
        hivemind.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
