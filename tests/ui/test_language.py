"""English / 繁體中文 without a restart: every visible tab re-renders in the new language."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.kit.paths import EXAMPLES
from tests.ui.homes import register, write_settings
from tests.ui.visible_text import english_words, visible_texts

pytestmark = pytest.mark.qt


def test_switching_to_traditional_chinese_leaves_no_english(
    make_app, hivemind_server, qtbot, tmp_path: Path
):
    home = tmp_path / "home"
    register(home, hivemind_server, "kim")
    write_settings(home, hivemind_server, sharing=True)
    hivemind = make_app(home)
    window = hivemind.window
    qtbot.waitUntil(lambda: hivemind.bridge.account.signed_in, timeout=15000)
    qtbot.waitUntil(lambda: "100 CPT" in window.earnings.starter_label.text(), timeout=15000)
    window.submit.load_package(EXAMPLES / "pi")
    qtbot.waitUntil(lambda: "CPT" in window.submit.estimate_label.text(), timeout=10000)
    english_tab_titles = [window.tabs.tabText(i) for i in range(window.tabs.count())]
    window.show()

    account = window.account
    window.tabs.setCurrentWidget(account)
    account.language.setCurrentIndex(account.language.findData("zh_TW"))  # the user's choice

    qtbot.waitUntil(lambda: window.tabs.tabText(0) == "總覽")  # Qt posts LanguageChange
    assert json.loads((home / "settings.json").read_text())["language"] == "zh_TW"
    data = {"kim", "pi", "python"}  # the username, the job's name and runtime are data
    for index in range(window.tabs.count()):
        window.tabs.setCurrentIndex(index)
        page = window.tabs.widget(index)
        texts = visible_texts(page)
        assert texts, f"nothing visible on tab {index}"
        left = english_words(texts, data)
        assert not left, f"English left on tab {window.tabs.tabText(index)}: {left}"
    window_texts = [window.windowTitle(), *visible_texts(window.banner)]
    tray = hivemind.tray
    tray_texts = [a.text() for a in tray.menu.actions() if a.text()] + [tray.tooltip()]
    assert not english_words(window_texts + tray_texts)

    account.language.setCurrentIndex(account.language.findData("en"))
    qtbot.waitUntil(
        lambda: [window.tabs.tabText(i) for i in range(window.tabs.count())] == english_tab_titles
    )
    assert tray.share_action.text() == "Share resources"
