"""The main window: five tabs, a banner when there is no tray, and what closing means."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtGui import QCloseEvent, QIcon
from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMessageBox,
    QStatusBar,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.services.invitation import Invitation
from app.services.monitor import HardwareFacts
from app.services.settings import SettingsStore
from app.ui import models
from app.ui.assets import app_icon_path
from app.ui.autostart import Autostart
from app.ui.bridge import Bridge
from app.ui.confirm import Choice, Question
from app.ui.texts import fill, short_state_text
from app.ui.tray import TrayController
from app.ui.views.account import AccountTab
from app.ui.views.earnings import EarningsTab
from app.ui.views.overview import OverviewTab
from app.ui.views.resources import ResourcesTab
from app.ui.views.submit import SubmitTab

DEFAULT_SIZE = (1000, 720)
MINIMUM_SIZE = (800, 560)  # every tab fits, in both languages, without cutting a line

# What closing the window does when there is no tray.
CLOSE_KEEP_RUNNING = "keep"
CLOSE_QUIT = "quit"
CLOSE_CANCEL = "cancel"


class MainWindow(QMainWindow):
    quit_requested = Signal(bool)  # finish the running tasks first

    def __init__(
        self,
        bridge: Bridge,
        store: SettingsStore,
        tray: TrayController,
        hardware: HardwareFacts,
        autostart: Autostart,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._bridge = bridge
        self._tray = tray
        self.setWindowIcon(QIcon(str(app_icon_path())))
        self.setMinimumSize(*MINIMUM_SIZE)
        self.resize(*DEFAULT_SIZE)

        self.overview = OverviewTab(bridge)
        self.resources = ResourcesTab(bridge, store, hardware)
        self.earnings = EarningsTab(bridge)
        self.submit = SubmitTab(bridge)
        self.account = AccountTab(bridge, store, autostart)
        self.tabs = QTabWidget()
        for tab in (self.overview, self.resources, self.earnings, self.submit, self.account):
            self.tabs.addTab(tab, "")

        # Without a tray the window is the only control: say so, and offer the tray's switch.
        self.banner = QWidget()
        self.banner.setObjectName("noTrayBanner")
        self.banner.setStyleSheet(
            "#noTrayBanner { background: #fff4d6; border: 1px solid #e0a100; border-radius: 4px; }"
            " #noTrayBanner QLabel, #noTrayBanner QCheckBox { color: #4a3500; }"
        )
        self.banner_label = QLabel()
        self.banner_label.setWordWrap(True)
        self.banner_share = QCheckBox()
        self.banner_share.setChecked(tray.share_action.isChecked())
        self.banner_share.toggled.connect(tray.share_action.setChecked)
        tray.share_action.toggled.connect(self._sync_banner_switch)
        tray.sharing_requested.connect(self.request_sharing)
        banner_layout = QHBoxLayout(self.banner)
        banner_layout.addWidget(self.banner_label, 1)
        banner_layout.addWidget(self.banner_share)
        self.banner.setVisible(not tray.available)

        central = QWidget()
        layout = QVBoxLayout(central)
        layout.addWidget(self.banner)
        layout.addWidget(self.tabs)
        self.setCentralWidget(central)
        self.setStatusBar(QStatusBar())
        self.state_label = QLabel()
        self.statusBar().addPermanentWidget(self.state_label)

        tray.notified.connect(lambda _title, text: self.statusBar().showMessage(text, 10_000))
        self.overview.sign_in_requested.connect(self.show_sign_in)
        bridge.sharing_changed.connect(self._show_state)
        bridge.account_changed.connect(self._show_account)
        bridge.settings_changed.connect(
            lambda settings: self._sync_banner_switch(settings.contributor.sharing)
        )
        self.overview.sharing_requested.connect(self.request_sharing)
        self._account = bridge.account
        self._state = bridge.sharing_state
        # Tests and the smoke test can decide the no-tray close question without a dialog.
        self.close_choice: str | None = None
        self.question: Question | None = None  # the open confirmation, if any
        self._quitting = False
        self.retranslate_ui()

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.LanguageChange:
            self.retranslate_ui()
        super().changeEvent(event)

    def retranslate_ui(self) -> None:
        self.setWindowTitle(self.tr("HiveMind"))
        titles = [
            self.tr("Overview"),
            self.tr("Resources"),
            self.tr("Earnings"),
            self.tr("Submit"),
            self.tr("Account"),
        ]
        for index, title in enumerate(titles):
            self.tabs.setTabText(index, title)
        self.banner_label.setText(
            self.tr(
                "This desktop has no system tray, so HiveMind is controlled from this window. "
                "Sharing goes on while the window is open, and in the background if you "
                "choose so when closing it."
            )
        )
        self.banner_share.setText(self.tr("Share resources"))
        self._show_state(self._state)

    def _sync_banner_switch(self, checked: bool) -> None:
        if self.banner_share.isChecked() != checked:
            self.banner_share.blockSignals(True)
            self.banner_share.setChecked(checked)
            self.banner_share.blockSignals(False)

    def _show_state(self, state: models.SharingState) -> None:
        self._state = state
        who = self._account.username if self._account.signed_in else ""
        text = short_state_text(state)
        self.state_label.setText(f"{who} · {text}" if who else text)

    def _show_account(self, account: models.AccountState) -> None:
        self._account = account
        self._show_state(self._state)

    def showEvent(self, event) -> None:
        self._bridge.set_usage_sampling(True)
        super().showEvent(event)

    def hideEvent(self, event) -> None:
        self._bridge.set_usage_sampling(False)
        super().hideEvent(event)

    def allow_quit(self) -> None:
        """The app is quitting: closing must not ask or hide."""
        self._quitting = True

    def closeEvent(self, event: QCloseEvent) -> None:
        if self._quitting:
            event.accept()
            return
        if self._tray.available:
            # The tray keeps the app reachable; closing only hides the window.
            event.ignore()
            self.hide()
            return
        choice = self.close_choice or self._ask_close()
        if choice == CLOSE_KEEP_RUNNING:
            event.ignore()
            self.hide()
        elif choice == CLOSE_QUIT:
            event.ignore()
            self.request_quit()
        else:
            event.ignore()

    def _ask_close(self) -> str:
        box = QMessageBox(self)
        box.setIcon(QMessageBox.Question)
        box.setWindowTitle(self.tr("Keep HiveMind running?"))
        box.setText(self.tr("Keep sharing in the background after closing this window?"))
        box.setInformativeText(
            self.tr(
                "There is no system tray on this desktop. Start HiveMind again to bring this "
                "window back."
            )
        )
        keep = box.addButton(self.tr("Keep running"), QMessageBox.AcceptRole)
        quit_button = box.addButton(self.tr("Quit HiveMind"), QMessageBox.DestructiveRole)
        box.addButton(QMessageBox.Cancel)
        box.setDefaultButton(keep)
        box.exec()
        clicked = box.clickedButton()
        if clicked is keep:
            return CLOSE_KEEP_RUNNING
        if clicked is quit_button:
            return CLOSE_QUIT
        return CLOSE_CANCEL

    # -- what loses work asks first ------------------------------------------------------------

    def request_sharing(self, on: bool) -> None:
        """The share switch (tray, banner, overview). Turning it off while tasks run asks
        whether to finish them first or hand them back."""
        if on or not self._bridge.running_task_count():
            self._bridge.set_sharing(on)
            return
        self._ask_about_running_tasks(
            self.tr("Stop sharing?"),
            self.tr("Finish them, then stop"),
            lambda finish: self._bridge.set_sharing(False, finish_tasks=finish),
        )

    def request_quit(self) -> None:
        """Quit from the tray or the window: asks first while tasks run."""
        if not self._bridge.running_task_count():
            self.quit_requested.emit(False)
            return
        self._ask_about_running_tasks(
            self.tr("Quit HiveMind?"),
            self.tr("Finish them, then quit"),
            self.quit_requested.emit,
        )

    def _ask_about_running_tasks(
        self, title: str, finish_label: str, decided: Callable[[bool], None]
    ) -> None:
        running = self._bridge.running_task_count()

        def answered(answer: str) -> None:
            self.question = None
            if answer in ("finish", "hand_back"):
                decided(answer == "finish")
            else:  # the switch goes back to where the setting is
                self._tray.show_sharing_setting(self._bridge.store.settings.contributor.sharing)
                self._sync_banner_switch(self._bridge.store.settings.contributor.sharing)

        self.question = Question(
            self,
            title,
            self.tr("This computer is running %n task(s).", "", running),
            self.tr(
                "Let them finish, and HiveMind stops when the last one is done: you are paid "
                "for them. Or hand them back now: they run again on another computer, and "
                "this one is not paid for them."
            ),
            [
                Choice("finish", finish_label, QMessageBox.AcceptRole, default=True),
                Choice("hand_back", self.tr("Hand them back now"), QMessageBox.DestructiveRole),
            ],
            answered,
        ).open()

    def show_sign_in(self) -> None:
        self.tabs.setCurrentWidget(self.account)
        self.account.username.setFocus()

    def offer_join(self, invitation: Invitation) -> None:
        """A join link for a network while the app is set up: ask first, since using another
        server signs out of this one and stops sharing with it."""
        settings = self._bridge.store.settings
        if (invitation.server, invitation.tls) == (settings.server, settings.tls):
            self.statusBar().showMessage(
                fill(self.tr("You are already on %1."), invitation.title), 10_000
            )
            return

        def answered(answer: str) -> None:
            self.question = None
            if answer == "join":
                self._bridge.use_server(invitation.server, invitation.tls, invitation.ca_file)
                self.tabs.setCurrentWidget(self.account)

        self.question = Question(
            self,
            self.tr("Join another network?"),
            fill(self.tr("Join %1?"), invitation.title),
            fill(
                self.tr(
                    "HiveMind will use the server at %1. You sign in there with that network's "
                    "account, and this computer stops sharing with %2."
                ),
                invitation.server,
                settings.server,
            ),
            [Choice("join", self.tr("Join"), QMessageBox.AcceptRole, default=True)],
            answered,
            icon=QMessageBox.Question,
        ).open()

    def raise_window(self) -> None:
        self.show()
        self.setWindowState(self.windowState() & ~Qt.WindowMinimized)
        self.raise_()
        self.activateWindow()
