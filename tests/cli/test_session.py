"""The client session: silent token refresh, reaching (or not reaching) the server."""

from __future__ import annotations

import asyncio

import grpc
import pytest

from app.services.client.credentials import CredentialStore
from app.services.client.session import ClientError, ClientSession
from app.services.settings import SettingsStore
from proto.hivemind.v1 import account_pb2
from tests.kit.accounts import PASSWORD
from tests.kit.client_cli import read_credentials
from tests.kit.servers import free_port

ACCESS_TTL_S = 2


@pytest.fixture
def server_settings() -> dict:
    # Access tokens die quickly, so every test here crosses at least one expiry.
    return {"access_token_ttl_s": ACCESS_TTL_S}


def stored_user(home, server) -> dict:
    import json

    services = read_credentials(home)
    (service,) = [name for name in services if name.startswith(f"hivemind:{server.address}:")]
    return json.loads(services[service]["user"])


async def test_expired_access_token_is_refreshed_silently(server, cli, register, hivemind_home):
    await register(server, "alice")
    first = stored_user(hivemind_home, server)
    await asyncio.sleep(ACCESS_TTL_S + 1)  # the stored access token has expired

    result = await cli("account", "balance", "--json", server=server)

    assert result.code == 0, result.stderr
    assert result.stderr == ""
    assert result.json()["starter_ucpt"] == server.settings.signup_grant_ucpt
    rotated = stored_user(hivemind_home, server)
    assert rotated["refresh_token"] != first["refresh_token"]
    assert rotated["access_token"] != first["access_token"]


async def test_refused_access_token_is_refreshed_silently(server, cli, register, hivemind_home):
    await register(server, "alice")
    # A token the client believes valid for an hour but the server refuses (forged/revoked).
    store = CredentialStore(hivemind_home)
    credential = store.load_user(server.address)
    credential.access_token = "forged.token"
    credential.access_expires_at = 4_000_000_000
    store.save_user(server.address, credential)

    result = await cli("account", "whoami", "--json", server=server)

    assert result.code == 0, result.stderr
    assert result.json()["username"] == "alice"
    assert stored_user(hivemind_home, server)["access_token"] != "forged.token"


async def test_concurrent_calls_and_sessions_refresh_once(server, register, hivemind_home):
    """Two sessions on one home (a worker and the CLI, say) refreshing at the same moment
    must not both present the same refresh token: the server would take that for theft and
    revoke the whole family, logging the user out everywhere."""
    await register(server, "alice")
    await asyncio.sleep(ACCESS_TTL_S + 1)
    settings = SettingsStore(hivemind_home)
    sessions = [
        ClientSession(settings, CredentialStore(hivemind_home), server=server.address)
        for _ in range(2)
    ]
    try:
        calls = [
            s.account.GetBalance(account_pb2.GetBalanceRequest())
            for s in sessions
            for _ in range(4)
        ]
        balances = await asyncio.gather(*calls)
        assert {b.starter_ucpt for b in balances} == {server.settings.signup_grant_ucpt}
        await asyncio.sleep(ACCESS_TTL_S + 1)
        again = await sessions[1].account.GetBalance(account_pb2.GetBalanceRequest())
        assert again.starter_ucpt == server.settings.signup_grant_ucpt
    finally:
        for s in sessions:
            await s.close()


async def test_revoked_session_says_log_in_again(server, cli, register, hivemind_home):
    await register(server, "alice")
    store = CredentialStore(hivemind_home)
    credential = store.load_user(server.address)
    credential.access_token, credential.refresh_token = "", "not-a-real-refresh-token"
    store.save_user(server.address, credential)

    result = await cli("account", "balance", server=server)

    assert result.code == 4
    line = result.stderr.strip()
    assert line.startswith(f"error: your session with {server.address} has ended")
    assert line.endswith("run `hivemind account login`")


async def test_cannot_reach_server_message(cli_process):
    address = f"127.0.0.1:{free_port()}"
    login = ("account", "login", "-u", "alice", "--password-stdin")
    result = await cli_process(*login, server=address, stdin=PASSWORD + "\n")
    assert result.code == 3
    assert result.stderr.strip() == (
        f"error: cannot reach the server at {address} — is `hivemind-server run` running?"
    )
    as_json = await cli_process(*login, "--json", server=address, stdin=PASSWORD + "\n")
    assert as_json.json() == {
        "error": f"cannot reach the server at {address} — is `hivemind-server run` running?",
        "code": "UNAVAILABLE",
    }


async def test_plaintext_to_a_remote_server_is_refused(cli, hivemind_home):
    # 192.0.2.0/24 is TEST-NET-1: the client must refuse before sending anything anywhere.
    result = await cli(
        "account", "login", "-u", "alice", "--password-stdin",
        server="192.0.2.10:50051", stdin=PASSWORD + "\n",
    )  # fmt: skip
    assert result.code == 1
    assert "refusing to talk to 192.0.2.10:50051 in plaintext" in result.stderr
    assert not read_credentials(hivemind_home)


async def test_bad_server_address(cli):
    result = await cli("account", "balance", server="127.0.0.1:notaport")
    assert result.code == 1
    assert result.stderr.strip() == (
        "error: bad server address '127.0.0.1:notaport': port must be a number"
    )


async def test_session_errors_carry_the_server_message(server, hivemind_home):
    async with ClientSession(SettingsStore(hivemind_home), CredentialStore(hivemind_home),
                             server=server.address) as session:  # fmt: skip
        with pytest.raises(ClientError) as caught:
            await session.login("nobody", "wrong password")
    assert caught.value.code == grpc.StatusCode.UNAUTHENTICATED
    assert caught.value.message == "wrong username or password"


async def test_a_server_named_by_several_addresses_fails_over(server, cli, hivemind_home):
    # Replicas of one server: the first address is dead, the next answers.
    both = f"127.0.0.1:{free_port()},{server.address}"
    register = ("account", "register", "-u", "alice", "--password-stdin", "--json")
    result = await cli(*register, server=both, stdin=PASSWORD + "\n")
    assert result.code == 0, result.stderr
    balance = await cli("account", "balance", "--json", server=both)
    assert balance.code == 0, balance.stderr
    assert balance.json()["starter_ucpt"] == server.settings.signup_grant_ucpt  # starter credit

    result = await cli("account", "balance", server=f"{server.address},127.0.0.1:x")
    assert result.code == 1
    assert result.stderr.strip() == "error: bad server address '127.0.0.1:x': port must be a number"
