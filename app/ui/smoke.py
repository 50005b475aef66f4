"""`hivemind-app --smoke-test`: proves a build can show its UI. Builds the window with every
tab offscreen, paints each one, switches the language both ways, checks the tray or its
no-tray fallback, and exits 0 within 10 s. It uses a throw-away home and never dials a server.
"""

from __future__ import annotations

import faulthandler
import os
import sys
import tempfile
import time
from pathlib import Path

DEADLINE_S = 10.0


def smoke_test() -> int:
    started = time.monotonic()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    # A hung build must fail the installer's check, not hang it.
    faulthandler.dump_traceback_later(DEADLINE_S, exit=True)
    try:
        with tempfile.TemporaryDirectory(prefix="hivemind-smoke-") as home:
            os.environ["HIVEMIND_HOME"] = home
            os.environ.setdefault("HIVEMIND_KEYRING", "file")
            problems, summary = _check(Path(home))
    finally:
        faulthandler.cancel_dump_traceback_later()
    elapsed = time.monotonic() - started
    if problems:
        for problem in problems:
            print(f"smoke test: FAILED: {problem}", file=sys.stderr)
        return 1
    print(f"smoke test ok: {summary}, {elapsed:.2f} s")
    return 0


def _quiet_offscreen_noise(_kind, _context, message: str) -> None:
    # The offscreen platform warns that it cannot size native windows; that is expected
    # here and would read like a failure in an installer's log. Everything else goes on.
    if "propagateSizeHints" not in message:
        print(message, file=sys.stderr)


def _check(home: Path) -> tuple[list[str], str]:
    import asyncio

    import qasync
    from PySide6.QtCore import qInstallMessageHandler
    from PySide6.QtWidgets import QApplication

    from app.ui.application import HiveMindApp
    from app.ui.autostart import XdgAutostart
    from app.ui.qt_compat import guard_signal_emit_refcount

    guard_signal_emit_refcount()
    qInstallMessageHandler(_quiet_offscreen_noise)
    qt_app = QApplication.instance() or QApplication(sys.argv[:1])
    loop = qasync.QEventLoop(qt_app)
    asyncio.set_event_loop(loop)
    problems: list[str] = []
    summary = ""

    async def run_checks() -> None:
        nonlocal summary
        hivemind = HiveMindApp(
            qt_app,
            home,
            autostart=XdgAutostart(home / "autostart-check"),
            single_instance=False,
        )
        window = hivemind.window
        window.show()
        english = []
        for index in range(window.tabs.count()):
            window.tabs.setCurrentIndex(index)
            await asyncio.sleep(0)
            page = window.tabs.widget(index)
            if page.grab().isNull():
                problems.append(f"tab {index} did not paint")
            english.append(window.tabs.tabText(index))
        hivemind.languages.apply("zh_TW")
        await asyncio.sleep(0)
        chinese = [window.tabs.tabText(i) for i in range(window.tabs.count())]
        if chinese == english:
            problems.append("switching to 繁體中文 changed no tab title (translations missing?)")
        hivemind.languages.apply("en")
        await asyncio.sleep(0)
        if [window.tabs.tabText(i) for i in range(window.tabs.count())] != english:
            problems.append("switching back to English did not restore the tab titles")
        hivemind.show_first_run()
        await asyncio.sleep(0)
        hivemind.wizard.close()
        if hivemind.tray.available:
            tray = "tray"
            if hivemind.tray.icon is None or not hivemind.tray.icon.isVisible():
                problems.append("a system tray exists but the icon is not shown")
        else:
            tray = "no tray: window fallback"
            if not window.banner.isVisible():
                problems.append("no system tray, and the window does not say so")
        summary = f"{window.tabs.count()} tabs ({', '.join(english)}), {tray}, languages en+zh_TW"
        await hivemind.stop()
        hivemind.dispose()

    with loop:
        loop.run_until_complete(run_checks())
    return problems, summary
