"""The node key's age limit on the Resources tab: shown with the other contributor settings,
saved when the number is complete, applied to the worker running inside the app (it renews
the key at once when the key is older than the new limit), "Never" for 0, in both languages."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from app.services.client.credentials import CredentialStore, NodeCredential
from app.services.settings import SettingsStore
from app.ui import models
from tests.ui.homes import register, write_settings

pytestmark = pytest.mark.qt

DAY_S = 86_400


def stored_node(home: Path, address: str) -> NodeCredential | None:
    return CredentialStore(home, backend="file").load_node(address)


def age_stored_key(home: Path, address: str, days: float) -> None:
    """Dates the stored node secret `days` back, editing the credentials file itself."""
    path = home / "credentials.json"
    data = json.loads(path.read_text())
    service = CredentialStore(home, backend="file").service_name(address)
    node = json.loads(data[service]["node"])
    node["saved_at"] = int(time.time() - days * DAY_S)
    data[service]["node"] = json.dumps(node)
    # Replaced in one step: the worker inside the app may read the file at any moment.
    scratch = path.with_suffix(".tmp")
    scratch.write_text(json.dumps(data))
    os.replace(scratch, path)


def saved_limit(home: Path) -> object:
    """The limit as the settings file on disk has it (the default when it names none)."""
    return SettingsStore(home).settings.contributor.node_secret_max_age_days


def test_a_shorter_key_age_renews_the_running_workers_key(
    make_app, hivemind_server, qtbot, tmp_path: Path
):
    home = tmp_path / "contributor"
    register(home, hivemind_server, "iris")
    write_settings(home, hivemind_server, sharing=True)
    hivemind = make_app(home)
    qtbot.waitUntil(lambda: hivemind.bridge.sharing_state.state == models.SHARING, timeout=20000)
    agent = hivemind.bridge.sharing.agent
    resources = hivemind.window.resources
    hivemind.window.tabs.setCurrentWidget(resources)
    box = resources.secret_max_age
    assert box.text() == "30 days" and box.isEnabled()
    assert "copy taken from this computer stops working" in box.toolTip()
    address = hivemind_server.address
    qtbot.waitUntil(lambda: stored_node(home, address) is not None, timeout=10000)
    age_stored_key(home, address, days=10)  # younger than 30 days: left alone
    before = stored_node(home, address)

    # Typing "7" then Enter (keyboard tracking is off: nothing is saved per keystroke).
    box.lineEdit().selectAll()
    qtbot.keyClicks(box.lineEdit(), "7")
    assert saved_limit(home) == 30
    qtbot.keyClick(box.lineEdit(), "\r")
    qtbot.waitUntil(lambda: saved_limit(home) == 7, timeout=5000)
    assert box.text() == "7 days"

    # The running worker sees the new limit at once: the 10-day-old key is renewed, and the
    # machine stays the same node.
    def renewed() -> bool:
        now = stored_node(home, address)
        return now is not None and now.secret != before.secret

    qtbot.waitUntil(renewed, timeout=15000)
    qtbot.waitUntil(lambda: agent.secret_rotation.rotations == 1, timeout=5000)
    assert stored_node(home, address).node_id == before.node_id
    assert hivemind.bridge.sharing.agent is agent

    box.setValue(1)
    assert box.text() == "1 day"
    box.setValue(0)  # the arrow down to the bottom of the range
    assert box.text() == "Never"
    assert saved_limit(home) == 0

    hivemind.languages.apply("zh_TW")
    qtbot.waitUntil(lambda: resources.security_box.title() == "安全性")
    assert box.text() == "永不更換"
    box.setValue(30)
    assert box.text() == "30 天"
    assert "自動失效" in box.toolTip()


def test_a_hand_edited_limit_shows_as_the_worker_reads_it(make_app, tmp_path: Path, qtbot):
    home = tmp_path / "home"
    home.mkdir()
    settings = {"language": "en", "contributor": {"executor": "process"}}
    settings["contributor"]["node_secret_max_age_days"] = "thirty"  # the worker: never
    (home / "settings.json").write_text(json.dumps(settings))
    hivemind = make_app(home, start=False)
    box = hivemind.window.resources.secret_max_age
    assert box.text() == "Never"
    assert saved_limit(home) == "thirty"  # showing it writes nothing back
    box.setValue(14)
    assert saved_limit(home) == 14
