"""Links the system opens with the app. Linux and Windows start the app with the link as its
argument (a running app gets it through the single-instance socket); macOS instead sends the
running application a file-open event carrying the URL, which this filter turns into the
same join offer."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject
from PySide6.QtGui import QFileOpenEvent

SCHEME = "hivemind"


class LinkEvents(QObject):
    """Installed on the QApplication: a `hivemind://` URL opened by the system is handed
    to `on_link`; other file-open events go on to Qt."""

    def __init__(self, on_link: Callable[[str], None], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._on_link = on_link

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.FileOpen and isinstance(event, QFileOpenEvent):
            url = event.url()
            if url.scheme() == SCHEME:
                self._on_link(url.toString())
                return True
        return False
