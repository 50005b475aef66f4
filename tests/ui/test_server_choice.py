"""Which server the app uses, as the Account tab shows it: the address box follows the server
in use, and "Use this server" checks that a HiveMind server answers before it signs anyone
out. A real server in a subprocess; a dead address is a free loopback port."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.kit.servers import free_port
from tests.ui.homes import register, write_settings

pytestmark = pytest.mark.qt


def test_the_address_box_follows_the_server_in_use_and_a_dead_one_is_refused(
    make_app, hivemind_server, qtbot, tmp_path: Path
):
    home = tmp_path / "home"
    register(home, hivemind_server, "carol")
    write_settings(home, hivemind_server)
    settings = (home / "settings.json").read_text()
    (home / "settings.json").write_text(settings.replace(hivemind_server.address, "127.0.0.1:1"))
    hivemind = make_app(home)
    account, bridge = hivemind.window.account, hivemind.bridge
    assert account.server_address.text() == "127.0.0.1:1"
    assert not account.connect_button.isEnabled()  # nothing edited: nothing to apply

    # Something else (the setup wizard, a join link) switches the server: the box follows.
    with qtbot.waitSignal(bridge.server_result, timeout=15000):
        bridge.use_server(hivemind_server.address, False, "")
    qtbot.waitUntil(lambda: bridge.account.signed_in, timeout=15000)
    assert account.server_address.text() == hivemind_server.address
    assert account.account_status.text() == f"Signed in as carol on {hivemind_server.address}"

    # The user types an address where nothing answers: nothing changes but a clear line.
    dead = f"127.0.0.1:{free_port()}"
    account.server_address.setText(dead)
    assert account.connect_button.isEnabled()
    with qtbot.waitSignal(bridge.server_result, timeout=15000) as result:
        account.connect_button.click()
    assert result.args[0] is False
    assert account.server_line.text() == (
        f"Can't reach the server at {dead}. Check the address or your connection."
    )
    assert hivemind.store.settings.server == hivemind_server.address
    assert bridge.account.signed_in  # still signed in to the server in use
    assert account.use_anyway_button.isVisibleTo(account)

    # Back to the right address: the line is gone.
    account.server_address.setText(hivemind_server.address)
    assert account.server_line.text() == "" and not account.use_anyway_button.isVisibleTo(account)
    assert not account.connect_button.isEnabled()
