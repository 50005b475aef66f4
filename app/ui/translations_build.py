"""The translation pipeline: Qt Linguist's own tools, as shipped in PySide6-Essentials.

    python -m app.ui.translations_build update    # lupdate: sources -> .ts (keeps translations)
    python -m app.ui.translations_build release   # lrelease: .ts -> .qm
    python -m app.ui.translations_build check     # what the tests check; exit 1 on a problem

English is the source language: its .ts says each string as written (and gives plural forms
for "%n task(s)"), filled in by `update`. Every other language is translated by a person in
its .ts (Qt Linguist, or any editor); `check` fails while an entry is unfinished, when a
string in the code is missing from a .ts, or when a .qm is older than its .ts content.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

from app.ui.assets import translations_dir

SOURCE_LANGUAGE = "en"
LANGUAGES = ("en", "zh_TW")
UI_ROOT = Path(__file__).resolve().parent


def tool(name: str) -> str:
    """pyside6-lupdate / pyside6-lrelease beside this interpreter, else on PATH."""
    candidates = [Path(sys.executable).parent / f"pyside6-{name}", Path(f"pyside6-{name}")]
    for candidate in candidates:
        found = shutil.which(str(candidate))
        if found:
            return found
    raise RuntimeError(f"pyside6-{name} not found (it comes with PySide6-Essentials)")


def source_files() -> list[Path]:
    return sorted(p for p in UI_ROOT.rglob("*.py") if "__pycache__" not in p.parts)


def ts_path(language: str, directory: Path | None = None) -> Path:
    return (directory or translations_dir()) / f"hivemind_{language}.ts"


def qm_path(language: str, directory: Path | None = None) -> Path:
    return (directory or translations_dir()) / f"hivemind_{language}.qm"


def run_lupdate(language: str, ts_file: Path) -> None:
    subprocess.run(
        [
            tool("lupdate"),
            "-locations",
            "none",
            "-no-obsolete",
            "-source-language",
            SOURCE_LANGUAGE,
            "-target-language",
            language,
            *map(str, source_files()),
            "-ts",
            str(ts_file),
        ],
        check=True,
        capture_output=True,
    )


def run_lrelease(ts_file: Path, qm_file: Path) -> None:
    subprocess.run(
        [tool("lrelease"), "-silent", str(ts_file), "-qm", str(qm_file)],
        check=True,
        capture_output=True,
    )


def english_plural(source: str) -> tuple[str, str]:
    """("%n task(s)" -> "%n task", "%n tasks"): English plural forms from the source."""
    return source.replace("(s)", ""), source.replace("(s)", "s")


def fill_source_language(ts_file: Path) -> int:
    """Marks every English entry as translated to itself; returns how many it filled."""
    tree = ET.parse(ts_file)
    filled = 0
    for message in tree.iter("message"):
        translation = message.find("translation")
        if translation is None or translation.get("type") != "unfinished":
            continue
        source = message.findtext("source", "")
        if message.get("numerus") == "yes":
            for form in list(translation):
                translation.remove(form)
            for text in english_plural(source):
                ET.SubElement(translation, "numerusform").text = text
        else:
            translation.text = source
        del translation.attrib["type"]
        filled += 1
    if filled:
        _write_ts(tree, ts_file)
    return filled


def _write_ts(tree: ET.ElementTree, ts_file: Path) -> None:
    body = ET.tostring(tree.getroot(), encoding="unicode")
    ts_file.write_text(
        '<?xml version="1.0" encoding="utf-8"?>\n<!DOCTYPE TS>\n' + body + "\n", encoding="utf-8"
    )


def messages(ts_file: Path) -> dict[tuple[str, str, str], ET.Element]:
    """(context, source, comment) -> the <message> element."""
    found = {}
    for context in ET.parse(ts_file).getroot().iter("context"):
        name = context.findtext("name", "")
        for message in context.iter("message"):
            key = (name, message.findtext("source", ""), message.findtext("comment", ""))
            found[key] = message
    return found


def unfinished(ts_file: Path) -> list[str]:
    """Sources whose translation is missing, empty or marked unfinished."""
    missing = []
    for (context, source, _comment), message in messages(ts_file).items():
        translation = message.find("translation")
        if translation is None or translation.get("type") in ("unfinished", "vanished", "obsolete"):
            missing.append(f"{context}: {source}")
            continue
        if message.get("numerus") == "yes":
            forms = [form.text or "" for form in translation.iter("numerusform")]
            if not forms or not all(form.strip() for form in forms):
                missing.append(f"{context}: {source}")
        elif not (translation.text or "").strip():
            missing.append(f"{context}: {source}")
    return missing


def update() -> None:
    directory = translations_dir()
    directory.mkdir(parents=True, exist_ok=True)
    for language in LANGUAGES:
        ts_file = ts_path(language)
        run_lupdate(language, ts_file)
        if language == SOURCE_LANGUAGE:
            fill_source_language(ts_file)
        left = unfinished(ts_file)
        print(f"{ts_file.name}: {len(messages(ts_file))} strings, {len(left)} to translate")


def release() -> None:
    for language in LANGUAGES:
        run_lrelease(ts_path(language), qm_path(language))
        print(f"{qm_path(language).name} written")


def check() -> list[str]:
    """Every problem with the committed translations, one line each."""
    problems = []
    with tempfile.TemporaryDirectory(prefix="hivemind-ts-") as scratch:
        for language in LANGUAGES:
            ts_file, qm_file = ts_path(language), qm_path(language)
            if not ts_file.exists():
                problems.append(f"{ts_file.name} is missing (run `make translations`)")
                continue
            for entry in unfinished(ts_file):
                problems.append(f"{ts_file.name}: unfinished: {entry}")
            # Strings in the code that the .ts lacks (or has but the code no longer uses).
            fresh = Path(scratch) / ts_file.name
            shutil.copy(ts_file, fresh)
            run_lupdate(language, fresh)
            in_code, in_ts = set(messages(fresh)), set(messages(ts_file))
            for context, source, _comment in sorted(in_code - in_ts):
                problems.append(f"{ts_file.name}: not extracted yet: {context}: {source}")
            for context, source, _comment in sorted(in_ts - in_code):
                problems.append(f"{ts_file.name}: no longer in the code: {context}: {source}")
            # The compiled catalogue must be exactly what lrelease makes of the .ts now.
            if not qm_file.exists():
                problems.append(f"{qm_file.name} is missing (run `make translations`)")
                continue
            rebuilt = Path(scratch) / qm_file.name
            run_lrelease(ts_file, rebuilt)
            if rebuilt.read_bytes() != qm_file.read_bytes():
                problems.append(f"{qm_file.name} is stale: run `make translations`")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m app.ui.translations_build")
    parser.add_argument("action", choices=("update", "release", "check"))
    action = parser.parse_args(argv).action
    if action == "update":
        update()
    elif action == "release":
        release()
    else:
        problems = check()
        for problem in problems:
            print(problem, file=sys.stderr)
        if problems:
            return 1
        print("translations complete and compiled")
    return 0


if __name__ == "__main__":
    sys.exit(main())
