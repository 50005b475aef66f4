"""The first launch: which server, who you are, how much to share. Three short pages; every
choice can be changed later in the tabs."""

from __future__ import annotations

from PySide6.QtCore import QEvent
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
    QWizard,
    QWizardPage,
)

from app.services.monitor import HardwareFacts
from app.services.settings import SettingsStore
from app.ui import models
from app.ui.bridge import Bridge
from app.ui.partials.problem_line import ProblemLine
from app.ui.texts import fill

# (share of cores, share of memory) for the three presets.
PRESETS = {"light": (0.25, 0.25), "balanced": (0.5, 0.5), "generous": (1.0, 0.75)}


def preset_limits(preset: str, hardware: HardwareFacts) -> tuple[int, int]:
    """(cores, memory MB) for a preset on this machine; at least one core and 256 MB."""
    core_share, memory_share = PRESETS[preset]
    cores = max(1, round(hardware.cores * core_share))
    memory = max(256, int(hardware.memory_mb * memory_share) // 64 * 64)
    return cores, memory


class FirstRunWizard(QWizard):
    def __init__(
        self,
        bridge: Bridge,
        store: SettingsStore,
        hardware: HardwareFacts,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._bridge = bridge
        self._store = store
        self._hw = hardware
        self.setWizardStyle(QWizard.ModernStyle)

        # Page 1: server
        self.server_page = QWizardPage()
        self.server_intro = QLabel()
        self.server_intro.setWordWrap(True)
        self.server_address = QLineEdit(store.settings.server)
        self.tls = QCheckBox()
        self.tls.setChecked(store.settings.tls)
        server_form = QFormLayout(self.server_page)
        self.address_label = QLabel()
        server_form.addRow(self.server_intro)
        server_form.addRow(self.address_label, self.server_address)
        server_form.addRow(self.tls)
        self.addPage(self.server_page)

        # Page 2: account
        self.account_page = QWizardPage()
        self.account_intro = QLabel()
        self.account_intro.setWordWrap(True)
        self.username = QLineEdit()
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.Password)
        self.login_button = QPushButton()
        self.register_button = QPushButton()
        self.login_button.clicked.connect(lambda: self._authenticate(register=False))
        self.register_button.clicked.connect(lambda: self._authenticate(register=True))
        self.account_status = ProblemLine()
        buttons = QHBoxLayout()
        buttons.addWidget(self.login_button)
        buttons.addWidget(self.register_button)
        buttons.addStretch(1)
        account_form = QFormLayout(self.account_page)
        self.username_label, self.password_label = QLabel(), QLabel()
        account_form.addRow(self.account_intro)
        account_form.addRow(self.username_label, self.username)
        account_form.addRow(self.password_label, self.password)
        account_form.addRow(buttons)
        account_form.addRow(self.account_status)
        self.addPage(self.account_page)

        # Page 3: how much to share
        self.share_page = QWizardPage()
        self.share_intro = QLabel()
        self.share_intro.setWordWrap(True)
        self.presets = QButtonGroup(self)
        self.preset_buttons: dict[str, QRadioButton] = {}
        share_layout = QVBoxLayout(self.share_page)
        share_layout.addWidget(self.share_intro)
        for name in PRESETS:
            button = QRadioButton()
            self.presets.addButton(button)
            self.preset_buttons[name] = button
            share_layout.addWidget(button)
        self.preset_buttons["balanced"].setChecked(True)
        self.start_sharing = QCheckBox()
        self.start_sharing.setChecked(True)
        share_layout.addWidget(self.start_sharing)
        share_layout.addStretch(1)
        self.addPage(self.share_page)

        bridge.auth_result.connect(self._auth_result)
        bridge.account_changed.connect(self._account_changed)
        self.currentIdChanged.connect(self._page_changed)
        self.retranslate_ui()

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.LanguageChange:
            self.retranslate_ui()
        super().changeEvent(event)

    def retranslate_ui(self) -> None:
        self.setWindowTitle(self.tr("Welcome to HiveMind"))
        self.server_page.setTitle(self.tr("Your HiveMind network"))
        self.server_intro.setText(
            self.tr(
                "HiveMind lends this computer's idle power to a network and pays you in CPT. "
                "Which server runs your network?"
            )
        )
        self.address_label.setText(self.tr("Server address"))
        self.tls.setText(self.tr("Use TLS (encrypted connection)"))
        self.account_page.setTitle(self.tr("Your account"))
        self.account_intro.setText(
            self.tr("Sign in, or create an account. You can also do this later.")
        )
        self.username_label.setText(self.tr("Username"))
        self.password_label.setText(self.tr("Password"))
        self.login_button.setText(self.tr("Log in"))
        self.register_button.setText(self.tr("Create account"))
        self.share_page.setTitle(self.tr("How much to share"))
        self.share_intro.setText(
            self.tr(
                "HiveMind only uses what you allow. You can change this any time on the "
                "Resources tab."
            )
        )
        labels = {
            "light": self.tr("A little: %1 cores, %2 GB memory"),
            "balanced": self.tr("Balanced: %1 cores, %2 GB memory"),
            "generous": self.tr("Generous: %1 cores, %2 GB memory"),
        }
        for name, template in labels.items():
            cores, memory = preset_limits(name, self._hw)
            self.preset_buttons[name].setText(fill(template, cores, f"{memory / 1024:.1f}"))
        self.start_sharing.setText(self.tr("Start sharing now"))
        self._account_changed(self._bridge.account)

    def _page_changed(self, page_id: int) -> None:
        if self.page(page_id) is self.account_page:
            self._apply_server()

    def _apply_server(self) -> None:
        address = self.server_address.text().strip()
        settings = self._store.settings
        if address != settings.server or self.tls.isChecked() != settings.tls:
            self._bridge.use_server(address, self.tls.isChecked(), settings.ca_file)

    def _authenticate(self, register: bool) -> None:
        username, password = self.username.text().strip(), self.password.text()
        if not username or not password:
            self.account_status.show_text(lambda: self.tr("Enter a username and a password."), True)
            return
        self.account_status.show_text(lambda: self.tr("Contacting the server…"))
        if register:
            self._bridge.register(username, password)
        else:
            self._bridge.login(username, password)

    def _auth_result(self, ok: bool, problem: models.Problem | None) -> None:
        if not ok:
            self.account_status.show_problem(problem)

    def _account_changed(self, account: models.AccountState) -> None:
        if account.signed_in:
            username = account.username
            self.account_status.show_text(lambda: fill(self.tr("Signed in as %1."), username))
            self.password.clear()

    def chosen_preset(self) -> str:
        for name, button in self.preset_buttons.items():
            if button.isChecked():
                return name
        return "balanced"

    def accept(self) -> None:
        cores, memory = preset_limits(self.chosen_preset(), self._hw)
        self._store.update_contributor(cores=cores, memory_mb=memory)
        if self.start_sharing.isChecked():
            self._bridge.set_sharing(True)
        else:
            self._store.save()
        super().accept()
