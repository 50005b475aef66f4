"""Account and settings: which server, who you are, language, start at login, cache folder,
and the app's log."""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import QEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.services.settings import SettingsStore
from app.ui import models
from app.ui.autostart import Autostart, launch_command
from app.ui.bridge import Bridge
from app.ui.confirm import Choice, Question
from app.ui.i18n import LANGUAGES
from app.ui.partials.accessible import name_controls, tie
from app.ui.partials.log_window import LogWindow
from app.ui.partials.problem_line import ProblemLine
from app.ui.texts import fill

log = logging.getLogger(__name__)


class AccountTab(QWidget):
    def __init__(
        self,
        bridge: Bridge,
        store: SettingsStore,
        autostart: Autostart,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._bridge = bridge
        self._store = store
        self._autostart = autostart
        self._account = bridge.account
        self.question: Question | None = None  # an open confirmation

        # Server
        self.server_box = QGroupBox()
        self.server_address = QLineEdit(store.settings.server)
        self.tls = QCheckBox()
        self.tls.setChecked(store.settings.tls)
        self.ca_file = QLineEdit(store.settings.ca_file)
        self.ca_button = QPushButton()
        self.ca_button.clicked.connect(self._choose_ca)
        self.connect_button = QPushButton()
        self.connect_button.clicked.connect(lambda: self._apply_server())
        # After a failed check: the user may know better (a server that is not up yet).
        self.use_anyway_button = QPushButton()
        self.use_anyway_button.clicked.connect(lambda: self._apply_server(check=False))
        self.use_anyway_button.hide()
        self.server_line = ProblemLine()
        ca_row = QHBoxLayout()
        ca_row.addWidget(self.ca_file, 1)
        ca_row.addWidget(self.ca_button)
        server_buttons = QHBoxLayout()
        server_buttons.addWidget(self.connect_button)
        server_buttons.addWidget(self.use_anyway_button)
        server_buttons.addStretch(1)
        server_form = QFormLayout(self.server_box)
        self.address_label, self.ca_label = QLabel(), QLabel()
        server_form.addRow(self.address_label, self.server_address)
        server_form.addRow(self.tls)
        server_form.addRow(self.ca_label, ca_row)
        server_form.addRow(server_buttons)
        server_form.addRow(self.server_line)
        # The fields show the server in use until the user edits them (a setup wizard or a
        # join link may change it meanwhile), and "Use this server" is for an edited one.
        self._server_edited = False
        self._showing_settings = False
        self.server_address.textChanged.connect(self._server_fields_edited)
        self.ca_file.textChanged.connect(self._server_fields_edited)
        self.tls.toggled.connect(self._server_fields_edited)

        # Account
        self.account_box = QGroupBox()
        self.account_status = QLabel()
        self.username = QLineEdit()
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.Password)
        self.password.returnPressed.connect(self._login)
        self.login_button = QPushButton()
        self.login_button.clicked.connect(self._login)
        self.register_button = QPushButton()
        self.register_button.clicked.connect(self._register)
        self.logout_button = QPushButton()
        self.logout_button.clicked.connect(self._logout)
        self.auth_label = ProblemLine()
        account_buttons = QHBoxLayout()
        account_buttons.addWidget(self.login_button)
        account_buttons.addWidget(self.register_button)
        account_buttons.addWidget(self.logout_button)
        account_buttons.addStretch(1)
        account_form = QFormLayout(self.account_box)
        self.username_label, self.password_label = QLabel(), QLabel()
        account_form.addRow(self.account_status)
        account_form.addRow(self.username_label, self.username)
        account_form.addRow(self.password_label, self.password)
        account_form.addRow(account_buttons)
        account_form.addRow(self.auth_label)

        # Preferences
        self.prefs_box = QGroupBox()
        self.language = QComboBox()
        for code, name in LANGUAGES.items():
            self.language.addItem(name, code)
        self.language.setCurrentIndex(max(0, self.language.findData(store.settings.language)))
        self.language.currentIndexChanged.connect(self._language_chosen)
        self.start_at_login = QCheckBox()
        self.start_at_login.setChecked(_safe_enabled(autostart))
        self.start_at_login.toggled.connect(self._autostart_toggled)
        self.cache_dir = QLineEdit(str(store.cache_dir))
        self.cache_dir.editingFinished.connect(self._cache_dir_edited)
        self.cache_button = QPushButton()
        self.cache_button.clicked.connect(self._choose_cache_dir)
        self.prefs_status = QLabel()
        self.prefs_status.setWordWrap(True)
        cache_row = QHBoxLayout()
        cache_row.addWidget(self.cache_dir, 1)
        cache_row.addWidget(self.cache_button)
        prefs = QFormLayout(self.prefs_box)
        self.language_label, self.cache_label = QLabel(), QLabel()
        prefs.addRow(self.language_label, self.language)
        prefs.addRow(self.start_at_login)
        prefs.addRow(self.cache_label, cache_row)
        prefs.addRow(self.prefs_status)

        # The app's log, for explaining a problem: in a window of its own.
        self.log_button = QPushButton()
        self.log_button.clicked.connect(self.show_log)
        self.log_window: LogWindow | None = None
        prefs.addRow(self.log_button)

        left = QVBoxLayout()
        left.addWidget(self.account_box)
        left.addWidget(self.server_box)
        left.addStretch(1)
        right = QVBoxLayout()
        right.addWidget(self.prefs_box)
        right.addStretch(1)
        layout = QHBoxLayout(self)
        layout.addLayout(left, 1)
        layout.addLayout(right, 1)

        for label, control in (
            (self.address_label, self.server_address),
            (self.ca_label, self.ca_file),
            (self.username_label, self.username),
            (self.password_label, self.password),
            (self.language_label, self.language),
            (self.cache_label, self.cache_dir),
        ):
            tie(label, control)
        bridge.account_changed.connect(self.show_account)
        bridge.auth_result.connect(self._show_auth_result)
        bridge.server_result.connect(self._show_server_result)
        bridge.settings_changed.connect(self._settings_changed)
        self.retranslate_ui()
        self._update_connect_button()

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.LanguageChange:
            self.retranslate_ui()
        super().changeEvent(event)

    def retranslate_ui(self) -> None:
        self.server_box.setTitle(self.tr("Server"))
        self.address_label.setText(self.tr("A&ddress"))
        self.server_address.setPlaceholderText("127.0.0.1:50051")
        self.tls.setText(self.tr("Use &TLS (encrypted connection)"))
        self.ca_label.setText(self.tr("CA ce&rtificate"))
        self.ca_file.setPlaceholderText(self.tr("the system's certificates"))
        self.ca_button.setText(self.tr("Choose…"))
        self.ca_button.setAccessibleName(self.tr("Choose a CA certificate"))
        self.connect_button.setText(self.tr("Use this &server"))
        self.use_anyway_button.setText(self.tr("Use it anyway"))
        self.account_box.setTitle(self.tr("Account"))
        self.username_label.setText(self.tr("&Username"))
        self.password_label.setText(self.tr("&Password"))
        self.login_button.setText(self.tr("Log &in"))
        self.register_button.setText(self.tr("Create &account"))
        self.logout_button.setText(self.tr("Log &out"))
        self.prefs_box.setTitle(self.tr("Preferences"))
        self.language_label.setText(self.tr("&Language"))
        self.start_at_login.setText(self.tr("&Start HiveMind when I log in"))
        self.start_at_login.setToolTip(self._autostart.location)
        self.cache_label.setText(self.tr("Cache &folder"))
        self.cache_button.setText(self.tr("Choose…"))
        self.cache_button.setAccessibleName(self.tr("Choose the cache folder"))
        self.log_button.setText(self.tr("Show the app's lo&g…"))
        name_controls(self)
        self.show_account(self._account)

    def show_log(self) -> None:
        if self.log_window is None:
            log_file = self._store.home / "logs" / "app.log"
            self.log_window = LogWindow(
                self._bridge, str(log_file) if log_file.exists() else "", self
            )
        self.log_window.show()
        self.log_window.raise_()

    def show_account(self, account: models.AccountState) -> None:
        self._account = account
        if account.signed_in:
            self.account_status.setText(
                fill(self.tr("Signed in as %1 on %2"), account.username, account.server)
            )
        else:
            self.account_status.setText(self.tr("Not signed in"))
        for widget in (self.username, self.password, self.login_button, self.register_button):
            widget.setEnabled(not account.signed_in)
        self.logout_button.setEnabled(account.signed_in)
        if account.signed_in:
            self.password.clear()
            self.auth_label.clear()  # an earlier failure is over

    def _login(self) -> None:
        if self._credentials_entered():
            self.auth_label.show_text(lambda: self.tr("Contacting the server…"))
            self._bridge.login(self.username.text().strip(), self.password.text())

    def _register(self) -> None:
        if self._credentials_entered():
            self.auth_label.show_text(lambda: self.tr("Contacting the server…"))
            self._bridge.register(self.username.text().strip(), self.password.text())

    def _credentials_entered(self) -> bool:
        if not self.username.text().strip() or not self.password.text():
            self.auth_label.show_text(lambda: self.tr("Enter a username and a password."), True)
            return False
        return True

    def _show_auth_result(self, ok: bool, problem: models.Problem | None) -> None:
        self.auth_label.show_problem(None if ok else problem)

    def _server_fields_edited(self) -> None:
        if self._showing_settings:
            return
        self._server_edited = True
        self.use_anyway_button.hide()
        self.server_line.clear()
        self._update_connect_button()

    def _server_fields(self) -> tuple[str, bool, str]:
        return self.server_address.text().strip(), self.tls.isChecked(), self.ca_file.text().strip()

    def _update_connect_button(self) -> None:
        settings = self._store.settings
        in_use = (settings.server, settings.tls, settings.ca_file)
        self.connect_button.setEnabled(self._server_fields() != in_use)

    def _show_server_fields(self, settings) -> None:
        """The server in use, unless the user is editing the fields."""
        if self._server_edited:
            return
        self._showing_settings = True
        try:
            for widget, value in (
                (self.server_address, settings.server),
                (self.ca_file, settings.ca_file),
            ):
                if widget.text() != value:
                    widget.setText(value)
            self.tls.setChecked(settings.tls)
        finally:
            self._showing_settings = False

    def _ask_first(self, title: str, text: str, action: str, go: Callable[[], None]) -> None:
        """Runs `go` at once, or after asking when tasks run on this computer: they would be
        handed back (to run elsewhere, unpaid here)."""
        running = self._bridge.running_task_count()
        if not running:
            go()
            return

        def answered(answer: str) -> None:
            self.question = None
            if answer == "go":
                go()

        self.question = Question(
            self,
            title,
            text,
            self.tr(
                "This computer is running %n task(s). They are handed back: another computer "
                "runs them, and this one is not paid for them.",
                "",
                running,
            ),
            [Choice("go", action, QMessageBox.DestructiveRole)],
            answered,
        ).open()

    def _logout(self) -> None:
        self._ask_first(
            self.tr("Log out?"),
            self.tr("Logging out stops sharing."),
            self.tr("Log out"),
            self._bridge.logout,
        )

    def _apply_server(self, check: bool = True) -> None:
        self._ask_first(
            self.tr("Use another server?"),
            self.tr("Using another server signs you out of this one and stops sharing with it."),
            self.tr("Use this server"),
            lambda: self._switch_server(check),
        )

    def _switch_server(self, check: bool) -> None:
        address, tls, ca_file = self._server_fields()
        self.use_anyway_button.hide()
        self.connect_button.setEnabled(False)
        self.server_line.show_text(fill(self.tr("Checking %1…"), address))
        self._bridge.use_server(address, tls, ca_file, check=check)

    def _show_server_result(self, switched: bool, problem: models.Problem | None) -> None:
        if switched:
            self._server_edited = False
            self._show_server_fields(self._store.settings)
            self.server_line.clear()
            self.use_anyway_button.hide()
        else:
            self.server_line.show_problem(problem)
            self.use_anyway_button.setVisible(
                problem is not None and problem.reason != "BAD_ADDRESS"
            )
        self._update_connect_button()

    def _choose_ca(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, self.tr("Choose a CA certificate"), "", self.tr("Certificates (*.pem *.crt)")
        )
        if path:
            self.ca_file.setText(path)

    def _language_chosen(self, index: int) -> None:
        self._bridge.set_language(self.language.itemData(index))

    def _autostart_toggled(self, enabled: bool) -> None:
        try:
            if enabled:
                self._autostart.enable(launch_command())
            else:
                self._autostart.disable()
        except OSError as exc:
            self.prefs_status.setText(fill(self.tr("Start at login not changed: %1"), exc))
            log.warning("autostart not changed: %s", exc)
            return
        self.prefs_status.setText("")
        log.info("start at login %s (%s)", "on" if enabled else "off", self._autostart.location)

    def _choose_cache_dir(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, self.tr("Choose the cache folder"))
        if folder:
            self.cache_dir.setText(folder)
            self._cache_dir_edited()

    def _cache_dir_edited(self) -> None:
        text = self.cache_dir.text().strip()
        if text == str(self._store.cache_dir):
            return
        try:
            self._store.update_contributor(cache_dir=text)
        except (ValueError, OSError) as exc:
            self.prefs_status.setText(fill(self.tr("Cache folder not changed: %1"), exc))
            return
        self.prefs_status.setText("")

    def _settings_changed(self, settings) -> None:
        self._show_server_fields(settings)
        self._update_connect_button()
        index = self.language.findData(settings.language)
        if index >= 0 and index != self.language.currentIndex():
            self.language.blockSignals(True)
            self.language.setCurrentIndex(index)
            self.language.blockSignals(False)


def _safe_enabled(autostart: Autostart) -> bool:
    try:
        return autostart.is_enabled()
    except OSError:
        return False
