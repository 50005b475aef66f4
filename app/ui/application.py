"""The desktop app as one object: settings, language, the bridge to the services, the tray,
the window, and the single-instance listener. `main.py` creates it under a qasync loop;
the tests create it the same way, offscreen."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import shiboken6
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from app.services.client.credentials import CredentialStore
from app.services.invitation import InvalidInvitation, Invitation, find_invitation, parse_link
from app.services.monitor import HardwareFacts, hardware_facts
from app.services.settings import SettingsStore
from app.ui import log_capture
from app.ui.assets import app_icon_path
from app.ui.autostart import Autostart, autostart_for_platform
from app.ui.bridge import Bridge
from app.ui.i18n import LanguageManager, system_language
from app.ui.qt_compat import guard_signal_emit_refcount
from app.ui.single_instance import SingleInstance
from app.ui.tray import TrayController
from app.ui.window import MainWindow

log = logging.getLogger(__name__)


class HiveMindApp:
    """Owns everything the app shows. `start()` connects to the services; `quit()` stops
    sharing, closes the connection and ends the Qt loop."""

    def __init__(
        self,
        qt_app: QApplication,
        home: Path | None = None,
        *,
        autostart: Autostart | None = None,
        hardware: HardwareFacts | None = None,
        policy: object = None,
        single_instance: bool = True,
        log_dir: Path | None = None,
        exit_qt_on_quit: bool = True,
        join_link: str = "",
    ) -> None:
        guard_signal_emit_refcount()
        self.qt_app = qt_app
        # Tests keep Qt's loop: QApplication.quit() would end every later nested loop too.
        self.exit_qt_on_quit = exit_qt_on_quit
        qt_app.setApplicationName("HiveMind")
        qt_app.setOrganizationName("HiveMind")
        qt_app.setDesktopFileName("hivemind")
        qt_app.setWindowIcon(QIcon(str(app_icon_path())))
        # The tray keeps the app alive after its window closes.
        qt_app.setQuitOnLastWindowClosed(False)

        self.store = SettingsStore(home)
        self.first_run = not self.store.settings.setup_done
        self.languages = LanguageManager(qt_app)
        if not self.store.path.exists():
            # A newcomer reads the app in the system's language until they choose another.
            self.store.settings.language = system_language()
        self.languages.apply(self.store.settings.language)
        self.credentials = CredentialStore(self.store.home)
        self.bridge = Bridge(self.store, self.credentials, policy=policy)
        self._log_handlers = log_capture.install(self.bridge.add_log_line, log_dir)
        self.bridge.language_requested.connect(self.languages.apply)

        self.hardware = hardware or hardware_facts(self.store.cache_dir)
        self.tray = TrayController(self.bridge)
        self.window = MainWindow(
            self.bridge,
            self.store,
            self.tray,
            self.hardware,
            autostart or autostart_for_platform(),
        )
        self.tray.open_requested.connect(self.window.raise_window)
        self.tray.quit_requested.connect(self.window.request_quit)
        self.window.quit_requested.connect(self.quit)

        self.instance: SingleInstance | None = None
        if single_instance:
            self.instance = SingleInstance(self.store.home)
            self.instance.listen()
            self.instance.raise_requested.connect(self.window.raise_window)
            self.instance.join_requested.connect(self.join)
        link_opened = getattr(qt_app, "link_opened", None)  # app/ui/link_events.py
        if link_opened is not None:  # macOS hands a running app its links this way
            link_opened.connect(self.join)
        self.wizard = None
        self.stopping = None  # the window shown while quitting
        self.invitation: Invitation | None = None
        try:
            self.invitation = find_invitation(self.store.home, join_link)
        except InvalidInvitation as exc:
            log.warning("invitation ignored: %s", exc)
        if self.invitation is not None:
            log.info("invited to server=%s from %s", self.invitation.server, self.invitation.source)
        self._join_link_given = bool(join_link)
        self._quit_task: asyncio.Future | None = None
        self.finished = asyncio.Event()

    def start(self, show_window: bool = True) -> None:
        """Connects to the services and shows what should be shown: the window (always
        without a tray), the guided setup on the very first run."""
        self.bridge.start()
        if show_window or not self.tray.available:
            self.window.show()
        if self.first_run:
            self.show_first_run()
        elif self.invitation is not None and self._join_link_given:
            self.window.offer_join(self.invitation)

    def show_first_run(self) -> None:
        """The guided setup. Only finishing it marks the setup done (settings.setup_done), so
        a cancelled one comes back at the next start."""
        from app.ui.first_run import FirstRunWizard

        self.wizard = FirstRunWizard(
            self.bridge,
            self.store,
            self.hardware,
            self.window,
            invitation=self.invitation,
            language=self.languages.current,
        )
        self.wizard.show()
        self.bridge.spawn(self.wizard.detect_idle())

    def join(self, link: str) -> None:
        """A join link given to a running app (a second launch passed it on)."""
        try:
            invitation = parse_link(link)
        except InvalidInvitation as exc:
            log.warning("join link ignored: %s", exc)
            return
        self.window.raise_window()
        self.window.offer_join(invitation)

    def quit(self, finish_tasks: bool = False) -> None:
        """Quits: running tasks are handed back at once (a signal, "Hand them back"), or
        finish first when the user chose so. A window says what is going on meanwhile."""
        if self._quit_task is None:
            self._quit_task = asyncio.ensure_future(self._quit(finish_tasks))

    async def _quit(self, finish_tasks: bool) -> None:
        from app.ui.partials.stopping_dialog import StoppingDialog

        log.info("quitting finish_tasks=%s", finish_tasks)
        self.stopping = StoppingDialog(self.bridge)
        self.stopping.start()
        try:
            await self.stop(finish_tasks)
        finally:
            self.stopping.finish()
            self.finished.set()
            if self.exit_qt_on_quit:
                self.qt_app.quit()

    async def stop(self, finish_tasks: bool = False) -> None:
        """Stops sharing and the connection, closes the widgets; the Qt loop goes on."""
        self.window.allow_quit()
        try:
            await self.bridge.shutdown(finish_tasks)
        finally:
            self.close_widgets()

    def close_widgets(self) -> None:
        """Closes the window and the tray icon, stops listening (no Qt loop needed)."""
        self.window.allow_quit()
        self.window.close()
        if self.wizard is not None:
            self.wizard.close()
        self.tray.close()
        if self.instance is not None:
            self.instance.close()
        log_capture.uninstall(self._log_handlers)
        self._log_handlers = []

    def dispose(self) -> None:
        """Deletes the app's Qt objects now, on this (the GUI) thread. Left to Python's
        garbage collector they may be destroyed from another thread that happens to run a
        collection, which crashes Qt."""
        self.close_widgets()
        link_opened = getattr(self.qt_app, "link_opened", None)
        if link_opened is not None:
            link_opened.disconnect(self.join)
        objects = [
            self.wizard,
            self.stopping,
            self.window,
            self.tray.menu,
            self.tray,
            self.instance,
            self.bridge,
        ]
        for qt_object in objects:
            if qt_object is not None and shiboken6.isValid(qt_object):
                shiboken6.delete(qt_object)
