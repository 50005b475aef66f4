"""Signing in and out through the Account tab, against a real server."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.kit.accounts import PASSWORD
from tests.ui.homes import register, write_settings

pytestmark = pytest.mark.qt


def test_log_in_through_the_account_tab(make_app, hivemind_server, qtbot, tmp_path: Path):
    # The account exists (made with the CLI elsewhere); this computer has never signed in.
    register(tmp_path / "cli-home", hivemind_server, "dana")
    home = tmp_path / "home"
    write_settings(home, hivemind_server)
    hivemind = make_app(home)
    account = hivemind.window.account
    hivemind.window.tabs.setCurrentWidget(account)
    qtbot.waitUntil(lambda: account.account_status.text() == "Not signed in")

    account.username.setText("dana")
    account.password.setText("wrong password")
    account.login_button.click()
    qtbot.waitUntil(
        lambda: (
            account.auth_label.text() == "Wrong username or password. Check both and try again."
        ),
        timeout=15000,
    )
    assert account.login_button.isEnabled()

    account.password.setText(PASSWORD)
    account.login_button.click()
    qtbot.waitUntil(
        lambda: account.account_status.text().startswith("Signed in as dana"), timeout=15000
    )
    assert hivemind_server.address in account.account_status.text()
    assert account.password.text() == ""  # the password does not linger in the form
    assert account.auth_label.text() == ""  # the earlier failure is over
    assert not account.login_button.isEnabled() and account.logout_button.isEnabled()
    # The sign-up grant shows up in Earnings without the user asking: as starter credit,
    # apart from the CPT balance.
    earnings = hivemind.window.earnings
    qtbot.waitUntil(
        lambda: (
            earnings.starter_label.text()
            == "Starter credit: 100 CPT (pays only for your own jobs; cannot be sent)"
        ),
        timeout=15000,
    )
    assert earnings.balance.value.text() == "0 CPT"

    account.logout_button.click()
    qtbot.waitUntil(lambda: account.account_status.text() == "Not signed in", timeout=15000)
    assert earnings.balance.value.text() == "0 CPT"
