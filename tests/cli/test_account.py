"""`hivemind account ...` against a real server, as a user would run it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.kit.accounts import PASSWORD
from tests.kit.admin import admin_json
from tests.kit.client_cli import read_credentials


def admin_grant(server, username: str, amount: str) -> int:
    """CPT granted as an admin does (`hivemind-server admin grant`); returns it in ucpt."""
    done = admin_json(Path(server.settings.data_dir), "grant", username, amount)
    return done["amount"]["ucpt"]


async def test_register_login_whoami_balance(server, cli, register, hivemind_home):
    registered = (await register(server, "alice")).json()
    grant = server.settings.signup_grant_ucpt
    assert registered["username"] == "alice"
    # A new account's grant is starter credit, shown apart from CPT.
    assert (registered["balance_ucpt"], registered["starter_ucpt"]) == (0, grant)
    assert registered["server"] == server.address

    who = await cli("account", "whoami", "--json", server=server)
    assert who.code == 0, who.stderr
    assert who.json()["username"] == "alice"

    login = await cli(
        "account", "login", "-u", "alice", "--password-stdin", "--json",
        server=server, stdin=PASSWORD + "\n",
    )  # fmt: skip
    assert login.code == 0, login.stderr
    assert login.json()["username"] == "alice"

    balance = (await cli("account", "balance", "--json", server=server)).json()
    assert balance == {
        "balance_ucpt": 0,
        "balance_cpt": "0",
        "starter_ucpt": grant,
        "starter_cpt": str(grant // 1_000_000),
        "escrow_ucpt": 0,
        "escrow_cpt": "0",
        "starter_escrow_ucpt": 0,
        "starter_escrow_cpt": "0",
    }
    # The server logged in to became the default: no --server needed any more.
    assert json.loads((hivemind_home / "settings.json").read_text())["server"] == server.address
    human = await cli("account", "balance")
    assert human.code == 0, human.stderr
    assert "balance: 0 CPT" in human.stdout
    assert f"starter credit: {grant // 1_000_000} CPT (pays only for your own jobs" in human.stdout


async def test_transfer_moves_cpt_and_shows_in_history(server, cli, register):
    await register(server, "bob")
    await register(server, "alice")  # alice is the logged-in user from here on
    grant = admin_grant(server, "alice", "10")  # starter credit cannot be sent: CPT can

    sent = await cli(
        "account", "transfer", "--to", "bob", "--amount", "1.5", "--memo", "lunch", "--json",
        server=server,
    )  # fmt: skip
    assert sent.code == 0, sent.stderr
    body = sent.json()
    assert body["amount_ucpt"] == 1_500_000 and body["amount_cpt"] == "1.5"
    assert body["balance_ucpt"] == grant - 1_500_000
    assert body["to"] == "bob" and body["tx_id"]

    history = (await cli("account", "history", "--json", server=server)).json()["entries"]
    newest = history[0]
    assert newest["reason"] == "transfer"
    assert newest["amount_ucpt"] == -1_500_000 and newest["amount_cpt"] == "-1.5"
    assert newest["counterparty"] == "bob"
    assert newest["memo"] == "lunch"
    assert newest["balance_after_ucpt"] == grant - 1_500_000
    assert history[-1]["reason"] == "grant"

    limited = (await cli("account", "history", "--limit", "1", "--json", server=server)).json()
    assert len(limited["entries"]) == 1

    # bob sees the credit once he logs in.
    await cli(
        "account", "login", "-u", "bob", "--password-stdin", server=server, stdin=PASSWORD + "\n"
    )
    bob = (await cli("account", "balance", "--json", server=server)).json()
    assert bob["balance_ucpt"] == 1_500_000


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        ("-1", "must not be negative"),
        ("abc", "not an amount"),
        ("0.0000001", "finer than 1 micro-CPT"),
        ("0", "more than 0"),
    ],
)
async def test_bad_amount_is_refused_and_changes_nothing(server, cli, register, amount, expected):
    await register(server, "bob")
    await register(server, "alice")
    before = (await cli("account", "history", "--json", server=server)).json()

    result = await cli("account", "transfer", "--to", "bob", "--amount", amount, server=server)

    assert result.code != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: --amount")
    assert expected in lines[0]
    assert result.stdout == ""
    after = (await cli("account", "history", "--json", server=server)).json()
    assert after == before


async def test_transfer_errors_from_the_server_are_one_line(server, cli, register):
    await register(server, "bob")
    await register(server, "alice")
    granted = admin_grant(server, "alice", "10")
    to_self = await cli("account", "transfer", "--to", "alice", "--amount", "1", server=server)
    assert to_self.code == 1
    assert to_self.stderr.strip() == "error: cannot transfer to yourself"

    nobody = await cli("account", "transfer", "--to", "nobody", "--amount", "1", server=server)
    assert nobody.code == 1
    assert nobody.stderr.startswith("error: ") and "nobody" in nobody.stderr

    too_much = await cli(
        "account", "transfer", "--to", "bob", "--amount", "1000000", "--json", server=server
    )
    assert too_much.code == 1
    assert too_much.json()["code"] == "FAILED_PRECONDITION"
    assert len(too_much.stderr.strip().splitlines()) == 1
    balance = (await cli("account", "balance", "--json", server=server)).json()
    assert balance["balance_ucpt"] == granted


async def test_wrong_password_is_one_line_and_nonzero(server, cli, cli_process, register):
    await register(server, "alice")
    result = await cli_process(
        "account", "login", "--username", "alice", "--password-stdin",
        server=server, stdin="not the password\n",
    )  # fmt: skip
    assert result.code == 4
    assert result.stderr.strip() == "error: wrong username or password"
    assert result.stdout == ""


async def test_password_is_never_an_argument(server, cli):
    result = await cli("account", "login", "--username", "alice", server=server)
    assert result.code == 1
    assert "--password-stdin" in result.stderr
    refused = await cli("account", "login", "--password", "secret123", server=server)
    assert refused.code == 2  # argparse: no such option


async def test_logout_forgets_credentials(server, cli, register, hivemind_home):
    await register(server, "alice")
    assert read_credentials(hivemind_home)
    out = await cli("account", "logout", "--json", server=server)
    assert out.code == 0, out.stderr
    assert out.json() == {"logged_out": True, "server": server.address, "server_told": True}
    assert not read_credentials(hivemind_home)

    after = await cli("account", "balance", server=server)
    assert after.code == 4
    assert after.stderr.strip() == (
        f"error: not logged in to {server.address}: run `hivemind account login`"
    )


async def test_earnings_shape(server, cli, register):
    await register(server, "alice")
    result = await cli("account", "earnings", "--days", "7", "--json", server=server)
    assert result.code == 0, result.stderr
    body = result.json()
    assert len(body["days"]) == 7
    assert body["today_ucpt"] == 0 and body["today_cpt"] == "0"
    assert body["payouts"] == []
    bad = await cli("account", "earnings", "--days", "0", server=server)
    assert bad.code == 1 and "--days" in bad.stderr
    # Days run midnight to midnight where the user is; the answer names the zone used.
    taipei = await cli("account", "earnings", "--time-zone", "Asia/Taipei", server=server)
    assert taipei.code == 0 and "(days in Asia/Taipei)" in taipei.stdout, taipei.stderr
    zoned = await cli("account", "earnings", "--time-zone", "Asia/Taipei", "--json", server=server)
    assert zoned.json()["time_zone"] == "Asia/Taipei"
