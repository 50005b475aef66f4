"""The dashboard's languages: English (the text in the templates) and 繁體中文.

A visitor's language is the one they chose (a cookie set by the switch in the page header),
else the first one their browser asks for (Accept-Language) that we have, else English.
Templates call `_("English text", name=value)`: the translation (server/web/translations.py)
with the values put in, every value HTML-escaped. A text without a translation shows in
English; tests/web checks that every text in the templates has one.
"""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup, escape

from server.web.translations import ZH_TW

ENGLISH = "en"
TRADITIONAL_CHINESE = "zh-TW"
LANGUAGES = {ENGLISH: "English", TRADITIONAL_CHINESE: "繁體中文"}
HTML_LANG = {ENGLISH: "en", TRADITIONAL_CHINESE: "zh-Hant-TW"}
CATALOGS: dict[str, dict[str, str]] = {ENGLISH: {}, TRADITIONAL_CHINESE: ZH_TW}
LANGUAGE_COOKIE = "hivemind-lang"


def language_from(chosen: str | None, accept_language: str | None) -> str:
    """The visitor's language: their choice if we have it, else their browser's first
    language we have (any Chinese reads 繁體中文 better than English), else English."""
    if chosen in LANGUAGES:
        return chosen
    wanted: list[tuple[float, int, str]] = []
    for position, part in enumerate((accept_language or "").split(",")[:20]):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        if tag and quality > 0:
            wanted.append((-quality, position, tag.strip().lower()))
    for _, _, tag in sorted(wanted):
        if tag == "en" or tag.startswith("en-"):
            return ENGLISH
        if tag == "zh" or tag.startswith("zh-"):
            return TRADITIONAL_CHINESE
    return ENGLISH


@dataclass(frozen=True)
class Translator:
    language: str

    def gettext(self, message: str, **values: object) -> Markup:
        """`message` in this language, with `%(name)s` placeholders filled in; the text and
        every value are escaped, so a message may quote what a user typed."""
        text = escape(CATALOGS.get(self.language, {}).get(message, message))
        if values:
            return text % values  # Markup's % escapes each value
        return text

    @property
    def html_lang(self) -> str:
        return HTML_LANG.get(self.language, "en")
