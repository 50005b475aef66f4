"""Languages of the app, switchable without a restart.

`LanguageManager.apply(code)` swaps the installed QTranslators; Qt then sends a
LanguageChange event to every widget, and each view re-sets its texts in `retranslate_ui`.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QLibraryInfo, QLocale, QTranslator

from app.ui.assets import translations_dir

log = logging.getLogger(__name__)

# Language code -> its own name (shown untranslated, so a user can always find their language).
LANGUAGES: dict[str, str] = {"en": "English", "zh_TW": "繁體中文"}
# Where Traditional Chinese is written (besides any locale that names the script).
_TRADITIONAL_TERRITORIES = (QLocale.Taiwan, QLocale.HongKong, QLocale.Macau)


def language_for(locale: QLocale) -> str:
    """The app's language for a locale: 繁體中文 for Traditional Chinese, else English (the
    app has no Simplified Chinese; English reads better there than the other script)."""
    if locale.language() == QLocale.Chinese and (
        locale.script() == QLocale.TraditionalChineseScript
        or locale.territory() in _TRADITIONAL_TERRITORIES
    ):
        return "zh_TW"
    return "en"


def system_language() -> str:
    return language_for(QLocale.system())


class LanguageManager:
    """Owns the app's translators (HiveMind's own and Qt's standard dialogs')."""

    # The translators are the application's, not one manager's: a later manager (another app
    # object in the same process, as tests and `make screenshots` make) replaces them all.
    _installed: list[QTranslator] = []

    def __init__(self, app: QCoreApplication, directory: Path | None = None) -> None:
        self._app = app
        self._directory = directory or translations_dir()
        self.current = "en"

    def apply(self, code: str) -> None:
        """Installs `code`'s translations; an unknown code falls back to English."""
        if code not in LANGUAGES:
            log.warning("unknown language %r; using English", code)
            code = "en"
        for translator in self._installed:
            self._app.removeTranslator(translator)
        self._installed.clear()
        own = QTranslator(self._app)
        if own.load(f"hivemind_{code}", str(self._directory)):
            self._installed.append(own)
        else:
            log.warning("translations for %s not found in %s", code, self._directory)
        # Qt's own strings (dialog buttons, wizard navigation) in the same language.
        qt_base = QTranslator(self._app)
        if qt_base.load(f"qtbase_{code}", QLibraryInfo.path(QLibraryInfo.TranslationsPath)):
            self._installed.append(qt_base)
        for translator in self._installed:
            self._app.installTranslator(translator)
        QLocale.setDefault(QLocale(code))
        self.current = code
