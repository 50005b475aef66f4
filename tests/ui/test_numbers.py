"""Numbers and lines people can read: amounts at two decimals (the exact value in a tooltip),
payouts by job name and task, pauses that say until when (the schedule's next window too),
"joined the network" once, and the way back after an outage said. Offscreen, no network."""

from __future__ import annotations

import time
from datetime import datetime, timedelta

import pytest
from PySide6.QtCore import QLocale

from app.services.worker import events as ev
from app.ui import models
from app.ui.sharing import _activity_for
from app.ui.texts import activity_text, reason_text, state_text

pytestmark = pytest.mark.qt


def test_amounts_at_two_decimals():
    assert [
        models.cpt_short(u)
        for u in (0, 34_293, 1_500_000, 100_000_000, 1_234_567_890, 2_500, 7, -2_000_000)
    ] == [
        "0 CPT",
        "0.034 CPT",  # below 1 CPT: two significant digits, so a small payout is not 0
        "1.5 CPT",
        "100 CPT",
        "1,234.57 CPT",
        "0.0025 CPT",
        "0.000007 CPT",
        "-2 CPT",
    ]


def test_payouts_show_job_task_and_readable_amounts(make_app, tmp_path):
    hivemind = make_app(tmp_path / "home", start=False)
    earnings = hivemind.window.earnings
    payout = models.PayoutRow(time.time(), "job-3f9a", 12.5, 34_293, 1_234, 35_527, "pi", 3)
    snapshot = models.EarningsSnapshot(
        balance_ucpt=100_035_527,
        today_ucpt=35_527,
        payouts=(payout,),
        time_zone="Etc/UTC",
    )
    hivemind.bridge.earnings_loaded.emit(snapshot)
    table = earnings.payouts_table
    assert [table.item(0, c).text() for c in range(1, 7)] == [
        "pi",
        "3",
        "12.5",
        "0.034 CPT",
        "0.0012 CPT",
        "0.036 CPT",
    ]
    assert table.item(0, 1).toolTip() == "job-3f9a"
    assert table.item(0, 6).toolTip() == "0.035527 CPT"  # the exact amount, on hover
    assert earnings.balance.value.text() == "100.04 CPT"
    assert earnings.balance.value.toolTip() == "100.035527 CPT"
    assert earnings.today.caption.text() == "Today"  # this computer's day


def test_pauses_say_until_when():
    paused = models.SharingState(models.PAUSED, "manual pause until 12:44")
    assert state_text(paused) == "Paused: you paused sharing until 12:44"
    opens = (datetime.now().astimezone() + timedelta(days=2)).replace(hour=18, minute=0)
    day = QLocale().dayName(opens.isoweekday(), QLocale.ShortFormat)
    assert reason_text(f"outside schedule until {opens.isoformat()}") == (
        f"outside your sharing schedule; the next window opens {day} 18:00"
    )


def test_joined_once_and_back_after_an_outage():
    again = ev.WorkerEvent(ev.REGISTERED, message="node-1")
    assert _activity_for(again, "127.0.0.1:1") is None  # the same node as before: no line
    new = _activity_for(ev.WorkerEvent(ev.REGISTERED, message="node-1", new_node=True), "")
    assert activity_text(new) == "This computer joined the network as node node-1"
    back = _activity_for(ev.WorkerEvent(ev.RECOVERED), "127.0.0.1:1")
    assert activity_text(back) == "In contact with the server again"
    lost = _activity_for(
        ev.WorkerEvent(
            ev.ERROR, message="heartbeat failed: failed to connect", status="UNAVAILABLE"
        ),
        "127.0.0.1:1",
    )
    assert activity_text(lost) == (
        "Problem: Can't reach the server at 127.0.0.1:1. Check the address or your connection."
    )
