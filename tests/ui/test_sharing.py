"""Sharing from the tray: a real worker inside the app runs a real job's tasks, gets paid,
and the Earnings tab shows it; the memory slider reaches the running worker."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.ui import models
from tests.kit.client_cli import hivemind_cli
from tests.kit.paths import EXAMPLES
from tests.ui.homes import register, write_settings

pytestmark = pytest.mark.qt

PI = EXAMPLES / "pi"


def test_tray_toggle_runs_a_task_and_the_payout_shows_in_earnings(
    make_app, hivemind_server, qtbot, tmp_path: Path
):
    home = tmp_path / "contributor"
    register(home, hivemind_server, "erin")
    write_settings(home, hivemind_server)
    hivemind = make_app(home)
    window, tray = hivemind.window, hivemind.tray
    qtbot.waitUntil(lambda: hivemind.bridge.account.signed_in, timeout=15000)
    assert window.overview.state_label.text() == "Not sharing"

    tray.share_action.trigger()  # what clicking "Share resources" in the tray menu does
    qtbot.waitUntil(lambda: hivemind.bridge.sharing_state.state == models.SHARING, timeout=20000)
    assert json.loads((home / "settings.json").read_text())["contributor"]["sharing"] is True
    assert window.overview.state_label.text().startswith("Sharing")
    assert window.banner_share.isChecked()  # the no-tray window shows the same switch

    submitter = tmp_path / "submitter"
    register(submitter, hivemind_server, "frank")
    job = hivemind_cli(
        submitter, "job", "submit", str(PI), "--tasks", "2", "--server", hivemind_server.address
    )

    events = window.overview.events_list
    texts = lambda: [events.item(i).text() for i in range(events.count())]  # noqa: E731
    qtbot.waitUntil(lambda: sum("Finished task" in t for t in texts()) == 2, timeout=60000)
    assert any(f"of job {job['job_id'][:12]}" in t for t in texts())

    earnings = window.earnings
    qtbot.waitUntil(lambda: earnings.payouts_table.rowCount() == 2, timeout=20000)
    # Each payout by its job's name (the id on hover) and task.
    assert earnings.payouts_table.item(0, 1).text() == "pi"
    assert earnings.payouts_table.item(0, 1).toolTip() == job["job_id"]
    assert {earnings.payouts_table.item(i, 2).text() for i in range(2)} == {"0", "1"}
    amounts = [earnings.snapshot.payouts[i].amount_ucpt for i in range(2)]
    assert all(amount > 0 for amount in amounts)
    # The CPT balance is exactly what was paid out; the sign-up grant is starter credit, apart.
    assert earnings.snapshot.balance_ucpt == sum(amounts)
    assert earnings.snapshot.starter_ucpt == 100_000_000
    assert earnings.snapshot.today_ucpt == sum(amounts)
    assert earnings.today.value.text() == models.cpt_short(sum(amounts))
    assert earnings.today.value.toolTip() == models.cpt(sum(amounts))
    assert tray.tooltip().endswith(models.cpt_short(sum(amounts)))

    # "Pause for 1 hour", then "Resume sharing now", from the same tray menu.
    tray.pause_action.trigger()
    qtbot.waitUntil(lambda: hivemind.bridge.sharing_state.state == models.PAUSED, timeout=10000)
    assert window.overview.state_label.text().startswith("Paused: you paused sharing until ")
    assert tray.pause_action.text() == "Resume sharing now"
    tray.pause_action.trigger()
    qtbot.waitUntil(lambda: hivemind.bridge.sharing_state.state == models.SHARING, timeout=10000)
    assert tray.pause_action.text() == "Pause for 1 hour"

    tray.share_action.trigger()
    qtbot.waitUntil(lambda: hivemind.bridge.sharing_state.state == models.OFF, timeout=20000)
    assert window.overview.state_label.text() == "Not sharing"


def test_memory_slider_changes_the_running_workers_limit(
    make_app, hivemind_server, qtbot, tmp_path: Path
):
    home = tmp_path / "contributor"
    register(home, hivemind_server, "gail")
    write_settings(home, hivemind_server, sharing=True, memory_mb=256)
    hivemind = make_app(home)
    qtbot.waitUntil(lambda: hivemind.bridge.sharing_state.state == models.SHARING, timeout=20000)
    agent = hivemind.bridge.sharing.agent
    resources = hivemind.window.resources
    hivemind.window.tabs.setCurrentWidget(resources)
    assert resources.memory.value() == 256
    assert resources.memory.value_label.text().startswith("256 MB of ")

    # A task that needs 512 MB does not fit in the 256 MB this computer lends.
    submitter = tmp_path / "submitter"
    register(submitter, hivemind_server, "hank")
    job = hivemind_cli(
        submitter,
        "job",
        "submit",
        str(PI),
        "--tasks",
        "1",
        "--memory",
        "512",
        "--server",
        hivemind_server.address,
    )
    qtbot.wait(2500)  # several lease rounds of the worker (one a second)
    status = hivemind_cli(
        submitter, "job", "status", job["job_id"], "--server", hivemind_server.address
    )
    assert status["state"] == "pending"

    resources.memory.slider.setValue(1024)  # the user drags the memory slider
    qtbot.waitUntil(
        lambda: (
            json.loads((home / "settings.json").read_text())["contributor"]["memory_mb"] == 1024
        ),
        timeout=5000,
    )
    events = hivemind.window.overview.events_list
    qtbot.waitUntil(
        lambda: any("Finished task 0" in events.item(i).text() for i in range(events.count())),
        timeout=60000,
    )
    # The same worker took the task: its limit changed without a restart.
    assert hivemind.bridge.sharing.agent is agent
    status = hivemind_cli(
        submitter, "job", "status", job["job_id"], "--server", hivemind_server.address
    )
    # Its task is done (the job then waits for its aggregate, which needs two owners' nodes).
    assert [t["state"] for t in status["tasks"] if not t["aggregate"]] == ["done"]


def test_server_down_at_start_shows_offline_then_sharing(
    make_app, hivemind_server, qtbot, tmp_path: Path
):
    home = tmp_path / "contributor"
    register(home, hivemind_server, "olga")
    # This computer shares, but its server is not running (yet).
    write_settings(home, hivemind_server, sharing=True)
    settings = json.loads((home / "settings.json").read_text())
    settings["server"] = "127.0.0.1:9"  # nothing listens on the discard port
    (home / "settings.json").write_text(json.dumps(settings))
    hivemind = make_app(home)
    overview = hivemind.window.overview
    # The stored sign-in is for the real server; on this address nobody is signed in.
    qtbot.waitUntil(lambda: overview.state_label.text().startswith("Offline: "), timeout=20000)

    # The user fixes the address on the Account tab and signs in there.
    account = hivemind.window.account
    account.server_address.setText(hivemind_server.address)
    account.connect_button.click()
    qtbot.waitUntil(lambda: hivemind.bridge.account.signed_in, timeout=20000)
    qtbot.waitUntil(lambda: hivemind.bridge.sharing_state.state == models.SHARING, timeout=20000)
    assert overview.state_label.text() == "Sharing: waiting for work"
