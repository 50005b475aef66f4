"""The first launch, for people who are not engineers: what HiveMind and CPT are (in their
language), which network to join (one click when the app was given an invitation), who they
are, and how to share without making the computer feel slow. Every choice can be changed
later in the tabs; a cancelled setup comes back at the next start.

Enter means what it says on each page: on the account page it signs in (or creates the
account) and moves on once that worked, never past a typed password.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QEvent
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGroupBox,
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

from app.services.client.channel import parse_server_address
from app.services.invitation import Invitation
from app.services.monitor import HardwareFacts
from app.services.settings import SettingsStore
from app.ui import models
from app.ui.bridge import Bridge
from app.ui.i18n import LANGUAGES
from app.ui.partials.problem_line import ProblemLine
from app.ui.texts import fill
from common.network import is_loopback

log = logging.getLogger(__name__)

# Sharing only after this many minutes without mouse or keyboard (the considerate default).
IDLE_MINUTES = 5
MIN_MEMORY_MB = 256


@dataclass(frozen=True)
class Preset:
    """How much of the machine a preset lends."""

    cores: int
    cpu_percent: int
    memory_mb: int


def preset_limits(name: str, hardware: HardwareFacts) -> Preset:
    """ "light": half of one core; "balanced": half the cores; "generous": every core. Memory
    a quarter, a half and three quarters of the machine's (at least 256 MB)."""

    def memory(share: float) -> int:
        return max(MIN_MEMORY_MB, int(hardware.memory_mb * share) // 64 * 64)

    cores = max(1, hardware.cores)
    if name == "light":
        return Preset(1, 50, memory(0.25))
    if name == "balanced":
        return Preset(max(1, cores // 2), 100, memory(0.5))
    return Preset(cores, 100, memory(0.75))


PRESETS = ("light", "balanced", "generous")


def distinct_presets(hardware: HardwareFacts) -> list[str]:
    """The presets that lend different amounts on this machine (on one core, "generous"
    would be "balanced" again: it is left out)."""
    seen: set[tuple[int, int]] = set()
    names = []
    for name in PRESETS:
        preset = preset_limits(name, hardware)
        key = (preset.cores, preset.cpu_percent)
        if key not in seen:
            seen.add(key)
            names.append(name)
    return names


class _Page(QWizardPage):
    """A page whose Next asks the wizard first (it may start something and go on later)."""

    def __init__(self, validate: Callable[[], bool] | None = None) -> None:
        super().__init__()
        self._validate = validate

    def validatePage(self) -> bool:
        return self._validate() if self._validate is not None else True


class FirstRunWizard(QWizard):
    def __init__(
        self,
        bridge: Bridge,
        store: SettingsStore,
        hardware: HardwareFacts,
        parent: QWidget | None = None,
        *,
        invitation: Invitation | None = None,
        language: str = "en",
    ) -> None:
        super().__init__(parent)
        self._bridge = bridge
        self._store = store
        self._hw = hardware
        self.invitation = invitation
        self.setWizardStyle(QWizard.ModernStyle)
        self.setOption(QWizard.NoBackButtonOnStartPage)
        self._waiting_for_server = False
        self._server_confirmed: tuple[str, bool, str] | None = None
        self._next_after_sign_in = False
        self._balance_ucpt: int | None = None

        self._build_welcome_page(language)
        self._build_network_page()
        self._build_account_page()
        self._build_share_page()

        bridge.auth_result.connect(self._auth_result)
        bridge.account_changed.connect(self._account_changed)
        bridge.server_result.connect(self._server_result)
        bridge.earnings_loaded.connect(self._earnings)
        self.retranslate_ui()
        self._network_choice_changed()
        self._account_changed(bridge.account)

    # -- pages ----------------------------------------------------------------------------

    def _build_welcome_page(self, language: str) -> None:
        self.welcome_page = _Page()
        self.welcome_intro = QLabel()
        self.welcome_intro.setWordWrap(True)
        self.cpt_text = QLabel()
        self.cpt_text.setWordWrap(True)
        self.language = QComboBox()
        for code, name in LANGUAGES.items():
            self.language.addItem(name, code)
        self.language.setCurrentIndex(max(0, self.language.findData(language)))
        self.language.currentIndexChanged.connect(
            lambda index: self._bridge.set_language(self.language.itemData(index))
        )
        self.language_label = QLabel()
        self.language_label.setBuddy(self.language)
        language_row = QHBoxLayout()
        language_row.addWidget(self.language_label)
        language_row.addWidget(self.language)
        language_row.addStretch(1)
        layout = QVBoxLayout(self.welcome_page)
        layout.addWidget(self.welcome_intro)
        layout.addWidget(self.cpt_text)
        layout.addStretch(1)
        layout.addLayout(language_row)
        self.addPage(self.welcome_page)

    def _build_network_page(self) -> None:
        self.network_page = _Page(self._validate_network_page)
        self.network_intro = QLabel()
        self.network_intro.setWordWrap(True)
        self.join_invited = QRadioButton()
        self.join_other = QRadioButton()
        self._network_choice = QButtonGroup(self)
        self._network_choice.addButton(self.join_invited)
        self._network_choice.addButton(self.join_other)
        invited = self.invitation is not None
        self.join_invited.setVisible(invited)
        self.join_other.setVisible(invited)
        (self.join_invited if invited else self.join_other).setChecked(True)
        self.join_other.toggled.connect(self._network_choice_changed)
        settings = self._store.settings
        # Only an address this computer already chose is filled in: a newcomer's network is
        # not on this computer.
        chosen = settings.server if self._store.path.exists() else ""
        self.server_address = QLineEdit(chosen)
        self.server_address.setPlaceholderText("hive.example.org:50051")
        self.server_address.textEdited.connect(self._address_edited)
        self.address_label = QLabel()
        self.address_label.setBuddy(self.server_address)
        self.tls = QCheckBox()
        self.tls.setChecked(settings.tls)
        self._tls_touched = False
        self.tls.clicked.connect(self._tls_clicked)
        self.address_box = QWidget()
        address_form = QFormLayout(self.address_box)
        address_form.setContentsMargins(0, 0, 0, 0)
        address_form.addRow(self.address_label, self.server_address)
        address_form.addRow(self.tls)
        self.network_status = ProblemLine()
        layout = QVBoxLayout(self.network_page)
        layout.addWidget(self.network_intro)
        layout.addWidget(self.join_invited)
        layout.addWidget(self.join_other)
        layout.addWidget(self.address_box)
        layout.addWidget(self.network_status)
        layout.addStretch(1)
        self.addPage(self.network_page)

    def _build_account_page(self) -> None:
        self.account_page = _Page(self._validate_account_page)
        self.account_intro = QLabel()
        self.account_intro.setWordWrap(True)
        self.new_account = QRadioButton()
        self.have_account = QRadioButton()
        self._account_choice = QButtonGroup(self)
        self._account_choice.addButton(self.new_account)
        self._account_choice.addButton(self.have_account)
        self.new_account.setChecked(True)
        self.new_account.toggled.connect(lambda _on: self._render_account_action())
        self.username = QLineEdit()
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.Password)
        self.username_label, self.password_label = QLabel(), QLabel()
        self.username_label.setBuddy(self.username)
        self.password_label.setBuddy(self.password)
        self.password_hint = QLabel()
        self.password_hint.setWordWrap(True)
        self.action_button = QPushButton()
        self.action_button.setAutoDefault(False)  # Enter is the wizard's Next, which signs in
        self.action_button.clicked.connect(lambda: self._authenticate())
        self.account_status = ProblemLine()
        self.balance_text = QLabel()
        self.balance_text.setWordWrap(True)
        self.balance_text.hide()
        choice = QHBoxLayout()
        choice.addWidget(self.new_account)
        choice.addWidget(self.have_account)
        choice.addStretch(1)
        form = QFormLayout()
        form.addRow(self.username_label, self.username)
        form.addRow(self.password_label, self.password)
        form.addRow("", self.password_hint)
        buttons = QHBoxLayout()
        buttons.addWidget(self.action_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self.account_page)
        layout.addWidget(self.account_intro)
        layout.addLayout(choice)
        layout.addLayout(form)
        layout.addLayout(buttons)
        layout.addWidget(self.account_status)
        layout.addWidget(self.balance_text)
        layout.addStretch(1)
        self.addPage(self.account_page)

    def _build_share_page(self) -> None:
        self.share_page = _Page()
        self.share_intro = QLabel()
        self.share_intro.setWordWrap(True)
        self.when_box = QGroupBox()
        self.idle_only = QRadioButton()
        self.always = QRadioButton()
        self._when = QButtonGroup(self)
        self._when.addButton(self.idle_only)
        self._when.addButton(self.always)
        self.idle_only.setChecked(True)
        self._defaults_touched = False  # the user chose: detection no longer changes it
        self._when.buttonClicked.connect(self._touched)
        self.when_note = QLabel()
        self.when_note.setWordWrap(True)
        when = QVBoxLayout(self.when_box)
        when.addWidget(self.idle_only)
        when.addWidget(self.always)
        when.addWidget(self.when_note)
        self.idle_detection: bool | None = None  # unknown until measured
        self.amount_box = QGroupBox()
        self.presets = QButtonGroup(self)
        self.preset_buttons: dict[str, QRadioButton] = {}
        amount = QVBoxLayout(self.amount_box)
        for name in distinct_presets(self._hw):
            button = QRadioButton()
            self.presets.addButton(button)
            self.preset_buttons[name] = button
            amount.addWidget(button)
        self.preset_buttons["balanced"].setChecked(True)
        self.presets.buttonClicked.connect(self._touched)
        self.start_sharing = QCheckBox()
        self.start_sharing.setChecked(True)
        layout = QVBoxLayout(self.share_page)
        layout.addWidget(self.share_intro)
        layout.addWidget(self.when_box)
        layout.addWidget(self.amount_box)
        layout.addWidget(self.start_sharing)
        layout.addStretch(1)
        self.addPage(self.share_page)

    # -- language ---------------------------------------------------------------------------

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.LanguageChange:
            self.retranslate_ui()
        super().changeEvent(event)

    def retranslate_ui(self) -> None:
        self.setWindowTitle(self.tr("Welcome to HiveMind"))
        self.welcome_page.setTitle(self.tr("Welcome to HiveMind"))
        self.welcome_intro.setText(
            self.tr(
                "HiveMind lends this computer's spare power to people who need computing, "
                "and pays you for it in CPT."
            )
        )
        self.cpt_text.setText(
            self.tr(
                "CPT (Computing Power Token) is the network's credit: you earn it when your "
                "computer finishes tasks for others, and you spend it to run your own jobs on "
                "their computers. A new account starts with a small balance, so you can try "
                "that right away."
            )
        )
        self.language_label.setText(self.tr("&Language:"))

        self.network_page.setTitle(self.tr("Your network"))
        invitation = self.invitation
        if invitation is not None:
            self.network_intro.setText(
                fill(
                    self.tr("You were invited to join %1, whose server is at %2."),
                    invitation.title,
                    invitation.server,
                )
            )
            self.join_invited.setText(
                fill(self.tr("&Join %1 (recommended)"), invitation.title.replace("&", "&&"))
            )
            self.join_other.setText(self.tr("Use &another server"))
        else:
            self.network_intro.setText(
                self.tr(
                    "Which network do you want to join? Ask the people who run it for its "
                    "address, or open the invitation link they sent you."
                )
            )
        self.address_label.setText(self.tr("Server &address:"))
        self.tls.setText(self.tr("Use &TLS (encrypted connection)"))

        self.account_page.setTitle(self.tr("Your account"))
        self.account_intro.setText(
            self.tr("Your account keeps your CPT. You can also do this later on the Account tab.")
        )
        self.new_account.setText(self.tr("I am &new here"))
        self.have_account.setText(self.tr("I &have an account"))
        self.username_label.setText(self.tr("&Username:"))
        self.password_label.setText(self.tr("&Password:"))
        self._render_account_action()
        self._render_balance()

        self.share_page.setTitle(self.tr("How to share"))
        self.share_intro.setText(
            self.tr(
                "HiveMind only uses what you allow, and tasks run in a sandbox that cannot see "
                "your files. You can change this any time on the Resources tab."
            )
        )
        self.when_box.setTitle(self.tr("When"))
        self.idle_only.setText(self.tr("&Only while I am not using this computer (recommended)"))
        self.always.setText(self.tr("&Whenever HiveMind runs"))
        self._render_when_note()
        self.amount_box.setTitle(self.tr("How much"))
        labels = {
            "light": self.tr("A &little: half of one core, %2 memory"),
            "balanced": self.tr("&Balanced: %1 of %3 cores, %2 memory"),
            "generous": self.tr("&Generous: all %3 cores, %2 memory"),
        }
        for name, button in self.preset_buttons.items():
            preset = preset_limits(name, self._hw)
            button.setText(
                fill(labels[name], preset.cores, _gigabytes(preset.memory_mb), self._hw.cores)
            )
        self.start_sharing.setText(self.tr("&Start sharing when I finish"))

    # -- network ----------------------------------------------------------------------------

    def _network_choice_changed(self) -> None:
        self.address_box.setVisible(self.invitation is None or self.join_other.isChecked())
        self.network_status.clear()

    def _tls_clicked(self) -> None:
        self._tls_touched = True

    def _address_edited(self, text: str) -> None:
        self.network_status.clear()
        if self._tls_touched:
            return
        # Passwords travel encrypted to any server beyond this computer: TLS on by default.
        try:
            host, _port = parse_server_address(text)
        except ValueError:
            return
        self.tls.setChecked(not is_loopback(host))

    def chosen_server(self) -> tuple[str, bool, str]:
        invitation = self.invitation
        if invitation is not None and self.join_invited.isChecked():
            return invitation.server, invitation.tls, invitation.ca_file
        return self.server_address.text().strip(), self.tls.isChecked(), ""

    def _validate_network_page(self) -> bool:
        """Next goes on once a HiveMind server answered at the chosen address."""
        chosen = self.chosen_server()
        if chosen == self._server_confirmed:
            return True
        if not chosen[0]:
            self.network_status.show_text(lambda: self.tr("Enter the server's address."), True)
            return False
        if not self._waiting_for_server:
            self._waiting_for_server = True
            self.network_status.show_text(fill(self.tr("Checking %1…"), chosen[0]))
            self._bridge.use_server(*chosen)
        return False

    def _server_result(self, switched: bool, problem: models.Problem | None) -> None:
        if not self._waiting_for_server:
            return
        self._waiting_for_server = False
        if not switched:
            self.network_status.show_problem(problem)
            return
        self._server_confirmed = self.chosen_server()
        self.network_status.clear()
        if self.currentPage() is self.network_page:
            self.next()

    # -- account ----------------------------------------------------------------------------

    def _render_account_action(self) -> None:
        if self.new_account.isChecked():
            self.action_button.setText(self.tr("&Create account"))
            self.password_hint.setText(self.tr("At least 8 characters."))
        else:
            self.action_button.setText(self.tr("&Log in"))
            self.password_hint.setText("")

    def _validate_account_page(self) -> bool:
        """Next (or Enter): on once signed in, or when both fields are empty (signing in can
        wait); with a username and a password it signs in first and goes on by itself."""
        if self._bridge.account.signed_in:
            return True
        username, password = self.username.text().strip(), self.password.text()
        if not username and not password:
            return True
        if self._authenticate():
            self._next_after_sign_in = True
        return False

    def _authenticate(self) -> bool:
        username, password = self.username.text().strip(), self.password.text()
        if not username or not password:
            self.account_status.show_text(lambda: self.tr("Enter a username and a password."), True)
            return False
        self.account_status.show_text(lambda: self.tr("Contacting the server…"))
        if self.new_account.isChecked():
            self._bridge.register(username, password)
        else:
            self._bridge.login(username, password)
        return True

    def _auth_result(self, ok: bool, problem: models.Problem | None) -> None:
        if not ok:
            self._next_after_sign_in = False
            self.account_status.show_problem(problem)

    def _account_changed(self, account: models.AccountState) -> None:
        if not account.signed_in:
            return
        username = account.username
        self.account_status.show_text(lambda: fill(self.tr("Signed in as %1."), username))
        self.password.clear()
        if self._next_after_sign_in and self.currentPage() is self.account_page:
            self._next_after_sign_in = False
            self.next()

    def _earnings(self, snapshot: models.EarningsSnapshot) -> None:
        if self._bridge.account.signed_in:
            self._balance_ucpt = snapshot.balance_ucpt
            self._render_balance()

    def _render_balance(self) -> None:
        if self._balance_ucpt is None:
            return
        self.balance_text.setText(
            fill(
                self.tr(
                    "Your balance: %1. Run a job with it on the Submit tab, or earn more by "
                    "sharing."
                ),
                models.cpt_short(self._balance_ucpt),
            )
        )
        self.balance_text.show()

    # -- sharing ----------------------------------------------------------------------------

    def set_idle_detection(self, available: bool) -> None:
        """Whether this computer can tell when it is in use. Without it, "only while I am not
        using it" would never share: the choice is offered no more, and the light share is
        the default instead."""
        self.idle_detection = available
        self.idle_only.setEnabled(available)
        if not self._defaults_touched or not available:
            (self.idle_only if available else self.always).setChecked(True)
            self.preset_buttons["balanced" if available else "light"].setChecked(True)
        self._render_when_note()

    def _touched(self) -> None:
        self._defaults_touched = True

    async def detect_idle(self) -> None:
        from app.services.policy.idle import NullIdleBackend, select_idle_backend

        backend = await asyncio.to_thread(select_idle_backend)
        self.set_idle_detection(not isinstance(backend, NullIdleBackend))

    def _render_when_note(self) -> None:
        if self.idle_detection is False:
            self.when_note.setText(
                self.tr(
                    "This computer cannot tell when you are using it, so HiveMind would never "
                    "start. Choose a light share instead, to keep it responsive."
                )
            )
        else:
            self.when_note.setText(
                fill(
                    self.tr(
                        "HiveMind starts after %1 minutes without mouse or keyboard, and stops "
                        "as soon as you are back."
                    ),
                    IDLE_MINUTES,
                )
            )

    def chosen_preset(self) -> str:
        for name, button in self.preset_buttons.items():
            if button.isChecked():
                return name
        return "balanced"

    def accept(self) -> None:
        preset = preset_limits(self.chosen_preset(), self._hw)
        self._store.update_contributor(
            cores=preset.cores,
            cpu_percent=preset.cpu_percent,
            memory_mb=preset.memory_mb,
            idle_minutes=IDLE_MINUTES if self.idle_only.isChecked() else 0,
        )
        self._store.update(setup_done=True)
        if self.start_sharing.isChecked():
            self._bridge.set_sharing(True)
        log.info(
            "first-run setup done preset=%s idle_only=%s sharing=%s",
            self.chosen_preset(),
            self.idle_only.isChecked(),
            self.start_sharing.isChecked(),
        )
        super().accept()


def _gigabytes(mb: int) -> str:
    return f"{mb / 1024:.1f} GB"
