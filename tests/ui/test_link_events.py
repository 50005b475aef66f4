"""A hivemind:// join link opened by the system while the app runs (macOS sends it to the
application as a file-open event) asks to join that network, as a second launch with the
link does. The suite's QApplication is the app's own class (tests/conftest.py qapp_cls)."""

from __future__ import annotations

from PySide6.QtCore import QUrl
from PySide6.QtGui import QFileOpenEvent
from PySide6.QtWidgets import QApplication


def test_a_join_link_opened_by_the_system_offers_to_join(make_app, tmp_path, qtbot):
    hivemind = make_app(tmp_path / "home")
    link = "hivemind://join?server=127.0.0.1:50999&name=Lab%20Cluster"
    QApplication.sendEvent(QApplication.instance(), QFileOpenEvent(QUrl(link)))
    qtbot.waitUntil(lambda: hivemind.window.question is not None, timeout=5_000)
    box = hivemind.window.question.box
    shown = box.text() + box.informativeText()
    assert "Lab Cluster" in shown and "127.0.0.1:50999" in shown

    # A file (not a link) is left to Qt: no second question.
    hivemind.window.question = None
    QApplication.sendEvent(QApplication.instance(), QFileOpenEvent(str(tmp_path / "a.zip")))
    assert hivemind.window.question is None
