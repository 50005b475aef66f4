"""Labels tied to their controls: the label's mnemonic (Alt+letter) moves the focus to the
control, and a screen reader announces the control by the label's words."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QWidget


def plain(text: str) -> str:
    """A label's words without its mnemonic marker ("Processor &cores" -> "Processor
    cores"; "語言(&L)：" -> "語言"), its trailing colon, or a tag."""
    words = text.replace("&&", "\0")
    for marker in ("(&", "（&"):
        start = words.find(marker)
        if start >= 0:
            end = words.find(")", start)
            end = end if end >= 0 else words.find("）", start)
            if end >= 0:
                words = words[:start] + words[end + 1 :]
    words = words.replace("&", "").replace("\0", "&")
    return words.strip().rstrip(":：").strip()


def tie(label: QLabel, control: QWidget) -> None:
    """`label` names `control` (see name_controls)."""
    label.setBuddy(control)


def name_controls(root: QWidget) -> None:
    """Names every control that a label under `root` is tied to, after the label's words
    (call it after each language change)."""
    for label in root.findChildren(QLabel):
        buddy = label.buddy()
        if buddy is not None and label.text():
            buddy.setAccessibleName(plain(label.text()))
