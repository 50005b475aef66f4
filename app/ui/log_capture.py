"""Feeds the app's log records to the log viewer (and to a file in the home)."""

from __future__ import annotations

import logging
import logging.handlers
from collections.abc import Callable
from pathlib import Path

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"


class LineHandler(logging.Handler):
    """Formats each record and hands the line to `sink` (the bridge re-emits it as a signal,
    which Qt queues to the GUI thread when the record came from a worker thread)."""

    def __init__(self, sink: Callable[[str], None]) -> None:
        super().__init__(logging.INFO)
        self.setFormatter(logging.Formatter(LOG_FORMAT, "%H:%M:%S"))
        self._sink = sink

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self._sink(self.format(record))
        except Exception:
            self.handleError(record)


def install(sink: Callable[[str], None], log_dir: Path | None = None) -> list[logging.Handler]:
    """Sends INFO and above to `sink` and, when `log_dir` is given, to a rotating app.log."""
    root = logging.getLogger()
    root.setLevel(logging.INFO)
    handlers: list[logging.Handler] = [LineHandler(sink)]
    if log_dir is not None:
        log_dir.mkdir(parents=True, exist_ok=True)
        file_handler = logging.handlers.RotatingFileHandler(
            log_dir / "app.log", maxBytes=2_000_000, backupCount=2, encoding="utf-8"
        )
        file_handler.setFormatter(logging.Formatter(LOG_FORMAT))
        handlers.append(file_handler)
    for handler in handlers:
        root.addHandler(handler)
    return handlers


def uninstall(handlers: list[logging.Handler]) -> None:
    root = logging.getLogger()
    for handler in handlers:
        root.removeHandler(handler)
        handler.close()
