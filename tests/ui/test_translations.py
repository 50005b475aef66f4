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


def test_traditional_chinese_reads_as_written_in_taiwan():
    translations = [
        " ".join(f.text or "" for f in m.find("translation").iter("numerusform"))
        or (m.find("translation").text or "")
        for m in tb.messages(tb.ts_path("zh_TW")).values()
    ]
    # 紀錄 for the noun (a log, a record), 送出 rather than 提交.
    assert not [t for t in translations if "記錄" in t or "提交" in t]


def test_worker_details_logs_and_package_warnings_are_translated(make_app, tmp_path):
    from app.ui import models
    from app.ui.texts import activity_text, package_warning_text
    from app.ui.views.jobs_table import LogDialog

    hivemind = make_app(tmp_path / "home", start=False)
    hivemind.languages.apply("zh_TW")
    failed = models.ActivityEvent(
        "task_failed", job_id="job-0123456789ab", task_index=2, detail="timed out after 60 s"
    )
    assert activity_text(failed) == "工作 job-01234567 的任務 2 失敗：超過時間上限（60 秒）"
    logs = [models.TaskLog(0, "failed", "a\n[... 9 bytes of log dropped ...]\nb", "cancelled")]
    dialog = LogDialog("job-1", logs)
    assert dialog.text.toPlainText() == (
        "—— 任務 0（失敗）——\na\n[… 這裡省略了 9 位元組的紀錄 …]\nb\n錯誤：已取消"
    )
    dialog.deleteLater()
    warning = "/p/hivemind.toml: unknown key [job] rounds ignored"
    assert package_warning_text(warning) == (
        "hivemind.toml：[job] 中的 rounds 不是 HiveMind 認得的設定，已略過。"
    )


def test_the_setup_wizard_speaks_traditional_chinese(make_app, tmp_path):
    from tests.ui.visible_text import english_words, visible_texts

    hivemind = make_app(tmp_path / "fresh", start=False)
    hivemind.languages.apply("zh_TW")
    hivemind.show_first_run()
    wizard = hivemind.wizard
    left = []
    for page_id in wizard.pageIds():
        page = wizard.page(page_id)
        left += english_words([page.title(), *visible_texts(page)], {"hive", "example", "org"})
    assert left == []
