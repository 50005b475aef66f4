"""Errors people read: what happened and what to do, in the UI's language, with the raw text
behind "Details". The server names the errors a client may word itself (trailing metadata);
connection failures are recognised by the client."""

from __future__ import annotations

import json
import re
from pathlib import Path

import grpc
import pytest

from app.services.client.credentials import CredentialStore
from app.services.client.session import ClientError, ClientSession
from app.services.settings import SettingsStore
from app.ui import models
from app.ui.problems import BadAmount, parse_amount, problem_text
from tests.kit.servers import free_port

pytestmark = pytest.mark.qt

CJK = re.compile(r"[\u4e00-\u9fff]")


async def test_the_server_names_its_errors_for_the_client(server, tmp_path: Path):
    settings = SettingsStore(tmp_path / "home")
    settings.update(server=server.address)
    async with ClientSession(settings, CredentialStore(tmp_path / "home", backend="file")) as s:
        with pytest.raises(ClientError) as short:
            await s.register("pat", "short")
        await s.register("pat", "correct horse battery")
        with pytest.raises(ClientError) as taken:
            await s.register("pat", "correct horse battery")
    assert short.value.code == grpc.StatusCode.INVALID_ARGUMENT
    assert (short.value.reason, short.value.details) == ("PASSWORD_TOO_SHORT", {"min_chars": "8"})
    assert "too short" in short.value.message  # the English line is still there, for the CLI
    assert (taken.value.reason, taken.value.details) == ("USERNAME_TAKEN", {"username": "pat"})
    problem = models.problem_from(taken.value)
    assert problem_text(problem) == "The username pat is taken. Choose another."


def test_a_dead_server_is_said_plainly_in_the_users_language(make_app, qtbot, tmp_path: Path):
    home = tmp_path / "home"
    home.mkdir()
    dead = f"127.0.0.1:{free_port()}"  # nothing listens there
    settings = {"server": dead, "language": "en", "contributor": {"executor": "process"}}
    (home / "settings.json").write_text(json.dumps(settings))
    hivemind = make_app(home)
    account = hivemind.window.account
    account.username.setText("dana")
    account.password.setText("correct horse battery")
    account.login_button.click()
    line = account.auth_label
    qtbot.waitUntil(lambda: line.problem is not None, timeout=20000)
    assert line.text() == f"Can't reach the server at {dead}. Check the address or your connection."
    assert line.is_error
    # The raw words of gRPC are behind Details, not in the sentence.
    assert line.details_button.isVisibleTo(account) and not line.details.isVisibleTo(account)
    assert "connect" in line.details.text().lower()
    line.details_button.click()
    assert line.details.isVisibleTo(account)

    hivemind.bridge.set_language("zh_TW")
    qtbot.waitUntil(lambda: CJK.search(line.text()) is not None)
    assert dead in line.text() and "Can't" not in line.text()


def test_amounts_take_a_decimal_comma_and_bad_ones_say_how_to_write_them(qapp):
    assert parse_amount("1,5") == parse_amount(" 1.5 ") == 1_500_000
    with pytest.raises(BadAmount) as bad:
        parse_amount("1,5,0")
    assert problem_text(bad.value.problem) == (
        "1,5,0 is not an amount of CPT. Write it as a number, for example 12.5."
    )
    assert "not an amount" in bad.value.problem.raw


def test_a_stale_amount_error_goes_when_the_amount_is_fixed(make_app, tmp_path: Path):
    hivemind = make_app(tmp_path / "home", start=False)
    submit = hivemind.window.submit
    submit.package_path.setText(str(tmp_path))  # any package; the form is checked first
    submit.command.setText("python3 main.py")
    submit.max_cost.setText("1..5")
    submit.submit_button.click()
    assert submit.status_label.text().startswith("1..5 is not an amount of CPT.")
    submit.max_cost.setText("1,5")
    assert submit.status_label.text() == ""
    assert submit.job_request().max_cost_ucpt == 1_500_000


def test_not_enough_balance_names_the_starter_credit_that_cannot_pay(qapp):
    # The details as the server sends them (server/ledger/starter.py escrow_funding).
    both = models.Problem(
        raw="insufficient balance",
        reason="INSUFFICIENT_BALANCE",
        details=(("need_ucpt", "5000000"), ("have_ucpt", "1000000"), ("starter_ucpt", "3000000")),
    )
    said = problem_text(both)
    assert said.startswith("This job may cost up to 5 CPT; you have 1 CPT, and 3 CPT of starter")
    assert "pays only for a whole job" in said
    cpt_only = models.Problem(
        raw="insufficient balance",
        reason="INSUFFICIENT_BALANCE",
        details=(("need_ucpt", "5000000"), ("have_ucpt", "1000000"), ("starter_ucpt", "0")),
    )
    assert problem_text(cpt_only).startswith("This job may cost up to 5 CPT, and you have 1 CPT.")
