"""Where the desktop has no system tray (offscreen here, like GNOME without the extension):
the window stays open, says sharing is controlled from it, and closing asks what to do."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox, QSystemTrayIcon

from app.ui import models
from tests.kit.paths import REPO_ROOT, python_env
from tests.ui.homes import register, write_settings

pytestmark = pytest.mark.qt


def answer_close_question(button_text: str) -> None:
    """Clicks `button_text` in the "Keep HiveMind running?" box as soon as it is open."""

    def click() -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(20, click)
            return
        for button in box.buttons():
            if button.text() == button_text:
                button.click()
                return
        raise AssertionError(f"no {button_text!r} in {[b.text() for b in box.buttons()]}")

    QTimer.singleShot(0, click)


def test_without_a_tray_the_window_is_the_control(make_app, hivemind_server, qtbot, tmp_path: Path):
    assert not QSystemTrayIcon.isSystemTrayAvailable()
    home = tmp_path / "home"
    register(home, hivemind_server, "lena")
    write_settings(home, hivemind_server)
    hivemind = make_app(home, start=False, single_instance=True)
    hivemind.start(show_window=False)  # as at login (--background): no tray, so shown anyway
    window = hivemind.window
    assert window.isVisible()
    assert window.banner.isVisible()
    assert "no system tray" in window.banner_label.text()
    assert hivemind.tray.icon is None

    # The banner's switch is the tray's "Share resources".
    qtbot.waitUntil(lambda: hivemind.bridge.account.signed_in, timeout=15000)
    window.banner_share.click()
    qtbot.waitUntil(lambda: hivemind.bridge.sharing_state.state == models.SHARING, timeout=20000)
    assert hivemind.tray.share_action.isChecked()

    # Closing asks; "Keep running" hides the window and sharing goes on.
    answer_close_question("Keep running")
    window.close()
    assert not window.isVisible()
    assert hivemind.bridge.sharing_state.state == models.SHARING

    # Starting the app again brings the window back instead of a second app.
    env = python_env(QT_QPA_PLATFORM="offscreen")
    second = subprocess.run(
        [sys.executable, "-m", "app.ui.main", "--home", str(home)],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO_ROOT,
        timeout=60,
    )
    assert second.returncode == 0, second.stderr
    assert "already running" in second.stdout
    qtbot.waitUntil(window.isVisible, timeout=5000)

    # "Quit HiveMind" stops sharing and ends the app.
    answer_close_question("Quit HiveMind")
    window.close()
    qtbot.waitUntil(hivemind.finished.is_set, timeout=20000)
    assert hivemind.bridge.sharing.agent is None
    assert not window.isVisible()
