"""Links the system opens with the app. Linux and Windows start the app with the link as its
argument (a running app gets it through the single-instance socket); macOS instead sends the
running application a file-open event carrying the URL, which `LinkApplication` turns into
its `link_opened` signal (the app makes it the same join offer).

The event is taken in the application object's own `event()`, not by an event filter on it:
a filter on the application sees every event of every object, which would pass each one
through Python (and crashes PySide while objects are being destroyed)."""

from __future__ import annotations

from PySide6.QtCore import QEvent, Signal
from PySide6.QtGui import QFileOpenEvent
from PySide6.QtWidgets import QApplication

SCHEME = "hivemind"


class LinkApplication(QApplication):
    """The desktop app's QApplication: a `hivemind://` URL the system opens arrives as
    `link_opened`; other file-open events go on to Qt."""

    link_opened = Signal(str)

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.FileOpen and isinstance(event, QFileOpenEvent):
            url = event.url()
            if url.scheme() == SCHEME:
                self.link_opened.emit(url.toString())
                return True
        return super().event(event)
