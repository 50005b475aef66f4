"""`hivemind-app` (and `hivemind app`): the desktop app's entry point."""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import sys
import time
from pathlib import Path

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
    parser.add_argument(
        "link",
        nargs="?",
        default="",
        help="an invitation link hivemind://join?server=HOST:PORT&tls=1&name=NAME",
    )


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
    return run_app(background=args.background, join_link=args.link)


def run_app(background: bool = False, join_link: str = "") -> int:
    import qasync

    from app.services.settings import default_home
    from app.ui.application import HiveMindApp
    from app.ui.link_events import LinkApplication
    from app.ui.qt_compat import guard_signal_emit_refcount
    from app.ui.single_instance import ask_running_instance_to_raise

    guard_signal_emit_refcount()
    qt_app = LinkApplication(sys.argv[:1])
    home = default_home()
    if ask_running_instance_to_raise(home, join_link):
        print("HiveMind is already running; its window was brought to the front.")
        return 0
    loop = qasync.QEventLoop(qt_app)
    asyncio.set_event_loop(loop)
    with loop:
        hivemind = HiveMindApp(qt_app, home, log_dir=home / "logs", join_link=join_link)
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: hivemind.quit())
        wakeup = SignalWakeup()
        loop.call_soon(hivemind.start, not background)
        ready_file = os.environ.get(READY_FILE_ENV)
        if ready_file:
            # Runs once the loop turns after start(): the tray (or its fallback) is up.
            loop.call_soon(lambda: Path(ready_file).write_text(f"{time.time()}\n"))
        loop.run_until_complete(hivemind.finished.wait())
        hivemind.dispose()
        wakeup.close()
    return 0


class SignalWakeup:
    """Python runs signal handlers only between bytecodes, and Qt may wait in C for a long
    time. The C-level handler writes the signal number to a socket (signal.set_wakeup_fd); Qt
    watches that socket, and reading it gives Python the moment to run the handler. No timer
    wakes an idle app to poll for signals."""

    def __init__(self) -> None:
        from PySide6.QtCore import QSocketNotifier

        self._reader, self._writer = socket.socketpair()
        for end in (self._reader, self._writer):
            end.setblocking(False)
        self._previous = signal.set_wakeup_fd(self._writer.fileno(), warn_on_full_buffer=False)
        self._notifier = QSocketNotifier(self._reader.fileno(), QSocketNotifier.Type.Read)
        self._notifier.activated.connect(self._drain)

    def _drain(self) -> None:
        try:
            while self._reader.recv(64):
                pass
        except (BlockingIOError, InterruptedError):
            pass

    def close(self) -> None:
        self._notifier.setEnabled(False)
        signal.set_wakeup_fd(self._previous)
        self._reader.close()
        self._writer.close()


if __name__ == "__main__":
    sys.exit(main())
