"""The translation files: complete, compiled from the current .ts, and really Chinese."""

from __future__ import annotations

import re

import pytest

from app.ui import translations_build as tb

pytestmark = pytest.mark.qt

CJK = re.compile(r"[\u4e00-\u9fff]")
# Sources that are the same in every language.
SAME_IN_EVERY_LANGUAGE = {"HiveMind", "KB/s"}


def test_every_string_is_extracted_translated_and_compiled():
    # Fails on an unfinished entry, a tr() string missing from a .ts, or a stale .qm.
    assert tb.check() == []


def test_traditional_chinese_entries_are_chinese():
    messages = tb.messages(tb.ts_path("zh_TW"))
    assert len(messages) > 200
    untranslated = []
    for (context, source, _comment), message in messages.items():
        translation = message.find("translation")
        forms = [f.text or "" for f in translation.iter("numerusform")] or [translation.text]
        for text in forms:
            if source not in SAME_IN_EVERY_LANGUAGE and not CJK.search(text or ""):
                untranslated.append(f"{context}: {source!r} -> {text!r}")
            # Placeholders survive translation, or the filled text would lose its values.
            assert set(re.findall(r"%\d|%n", source)) == set(re.findall(r"%\d|%n", text)), (
                f"{context}: {source!r} -> {text!r}"
            )
    assert untranslated == []


def test_english_plural_forms_come_from_the_source():
    assert tb.english_plural("Earned %1 from %n task(s)") == (
        "Earned %1 from %n task",
        "Earned %1 from %n tasks",
    )


def test_compiled_catalogue_translates_at_runtime(qapp):
    from PySide6.QtCore import QCoreApplication, QTranslator

    translator = QTranslator()
    assert translator.load(str(tb.qm_path("zh_TW")))
    assert translator.translate("MainWindow", "Overview") == "總覽"
    assert translator.translate("Counted", "Sharing: %n task(s) running", None, 3) == (
        "分享中：%n 個任務執行中"
    )
    english = QTranslator()
    assert english.load(str(tb.qm_path("en")))
    QCoreApplication.installTranslator(english)
    try:
        text = QCoreApplication.translate("Counted", "Earned %1 from %n task(s)", None, 1)
        assert text == "Earned %1 from 1 task"
    finally:
        QCoreApplication.removeTranslator(english)
