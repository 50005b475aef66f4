"""The first launch as a newcomer meets it: a network joined with one click from an
invitation, Enter after the password signs in (never past it), considerate sharing defaults,
and a setup that comes back when it was cancelled. A real server in a subprocess."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PySide6.QtCore import QLocale, Qt

from app.services.invitation import InvalidInvitation, parse_link
from app.services.monitor import HardwareFacts
from app.services.settings import SettingsStore
from app.ui.first_run import IDLE_MINUTES, distinct_presets, preset_limits
from app.ui.i18n import language_for
from tests.kit.accounts import PASSWORD
from tests.ui.homes import register

pytestmark = pytest.mark.qt


def _machine(cores: int) -> HardwareFacts:
    return HardwareFacts(cores, 8192, 50_000, "Linux", "x86_64", "cpu", "host")


def test_a_newcomer_joins_the_invited_network_and_enter_signs_in(
    make_app, hivemind_server, qtbot, tmp_path: Path
):
    register(tmp_path / "elsewhere", hivemind_server, "nina")  # the account exists already
    home = tmp_path / "fresh"
    home.mkdir()
    # What an installer made for this network puts beside the app (or in the home).
    (home / "network.json").write_text(
        json.dumps({"name": "Lab Network", "server": hivemind_server.address})
    )
    hivemind = make_app(home)
    wizard = hivemind.wizard
    assert hivemind.first_run and wizard is not None
    qtbot.waitUntil(wizard.isVisible)
    wizard.next()  # welcome
    assert wizard.currentPage() is wizard.network_page
    assert wizard.join_invited.isChecked() and "Lab Network" in wizard.join_invited.text()
    assert not wizard.address_box.isVisibleTo(wizard)  # nothing to type
    wizard.next()  # one click: checks the server, then moves on by itself
    qtbot.waitUntil(lambda: wizard.currentPage() is wizard.account_page, timeout=15000)
    assert hivemind.store.settings.server == hivemind_server.address

    # Enter after the password: signs in, then goes on (it never skips the sign-in).
    wizard.have_account.setChecked(True)
    wizard.username.setText("nina")
    wizard.password.setText(PASSWORD)
    qtbot.keyClick(wizard.password, Qt.Key_Return)
    assert wizard.currentPage() is wizard.account_page
    qtbot.waitUntil(lambda: wizard.currentPage() is wizard.share_page, timeout=15000)
    assert hivemind.bridge.account.signed_in and hivemind.bridge.account.username == "nina"

    # Considerate defaults: only while the computer is not in use, a balanced share.
    wizard.set_idle_detection(True)
    assert wizard.idle_only.isChecked() and wizard.preset_buttons["balanced"].isChecked()
    wizard.start_sharing.setChecked(False)
    wizard.accept()
    settings = SettingsStore(home).settings
    balanced = preset_limits("balanced", hivemind.hardware)
    assert settings.setup_done and settings.contributor.idle_minutes == IDLE_MINUTES
    assert (settings.contributor.cores, settings.contributor.memory_mb) == (
        balanced.cores,
        balanced.memory_mb,
    )


def test_a_wrong_password_stops_on_the_account_page_in_red(
    make_app, hivemind_server, qtbot, tmp_path: Path
):
    register(tmp_path / "elsewhere", hivemind_server, "omar")
    home = tmp_path / "fresh"
    hivemind = make_app(
        home, start=False, join_link=f"hivemind://join?server={hivemind_server.address}"
    )
    hivemind.start()
    wizard = hivemind.wizard
    wizard.next()
    wizard.next()
    qtbot.waitUntil(lambda: wizard.currentPage() is wizard.account_page, timeout=15000)
    wizard.have_account.setChecked(True)
    wizard.username.setText("omar")
    wizard.password.setText("not the password")
    qtbot.keyClick(wizard.password, Qt.Key_Return)
    qtbot.waitUntil(lambda: wizard.account_status.problem is not None, timeout=15000)
    assert wizard.currentPage() is wizard.account_page
    assert wizard.account_status.is_error
    assert wizard.account_status.text() == "Wrong username or password. Check both and try again."


def test_a_cancelled_setup_comes_back(make_app, qtbot, tmp_path: Path):
    home = tmp_path / "fresh"
    hivemind = make_app(home)
    assert hivemind.first_run
    hivemind.wizard.language.setCurrentIndex(hivemind.wizard.language.findData("zh_TW"))
    hivemind.wizard.reject()  # Cancel
    assert SettingsStore(home).settings.language == "zh_TW"  # the language choice was kept
    again = make_app(home, start=False)
    assert again.first_run  # and the setup is offered again


def test_a_machine_that_cannot_tell_idle_time_gets_a_light_share(make_app, tmp_path: Path):
    hivemind = make_app(tmp_path / "fresh")
    wizard = hivemind.wizard
    wizard.set_idle_detection(False)  # a desktop without an idle-time service
    assert not wizard.idle_only.isEnabled() and wizard.always.isChecked()
    assert wizard.preset_buttons["light"].isChecked()


def test_presets_differ_on_every_machine_and_leave_it_responsive():
    two = _machine(2)
    assert distinct_presets(two) == ["light", "balanced", "generous"]
    light, balanced = preset_limits("light", two), preset_limits("balanced", two)
    assert (light.cores, light.cpu_percent) == (1, 50)
    assert (balanced.cores, balanced.cpu_percent) == (1, 100)
    # One core: "generous" would lend what "balanced" does, so it is not offered.
    assert distinct_presets(_machine(1)) == ["light", "balanced"]


def test_invitation_links_and_the_system_language():
    invitation = parse_link("hivemind://join?server=hive.example.org:443&tls=1&name=Lab%20Net")
    assert (invitation.server, invitation.tls, invitation.title) == (
        "hive.example.org:443",
        True,
        "Lab Net",
    )
    for bad in ("https://example.org", "hivemind://join?name=x", "hivemind://join?server=a:b"):
        with pytest.raises(InvalidInvitation):
            parse_link(bad)
    assert language_for(QLocale("zh_TW")) == language_for(QLocale("zh_HK")) == "zh_TW"
    assert language_for(QLocale("zh_CN")) == language_for(QLocale("de_DE")) == "en"
