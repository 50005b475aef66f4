"""TLS end to end: the server will not serve plaintext where others can listen, clients
verify the server against the CA they trust, and no credential crosses plaintext off
loopback (the client refuses before it opens a connection)."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

import grpc
import pytest

from app.services.client.credentials import CredentialStore, UserCredential
from app.services.client.session import ClientError, ClientSession
from app.services.settings import SettingsStore
from common.network import is_loopback
from proto.hivemind.v1 import account_pb2
from server.app import HiveMindServer
from server.config import ServerSettings
from tests.kit.accounts import PASSWORD
from tests.kit.admin import server_cli
from tests.kit.certificates import issue_server_cert, make_authority


@pytest.fixture
def pki(tmp_path: Path) -> dict:
    """A good CA with a server certificate for 127.0.0.1, and an unrelated 'evil' CA."""
    good, evil = make_authority("good"), make_authority("evil")
    return {
        "good_ca": good.write(tmp_path),
        "evil_ca": evil.write(tmp_path),
        "server": issue_server_cert(good, tmp_path),
    }


@pytest.fixture
async def tls_server(make_server, pki) -> HiveMindServer:
    cert = pki["server"]
    return await make_server(tls_cert_file=str(cert.cert_file), tls_key_file=str(cert.key_file))


def client(home: Path, address: str, **settings: object) -> ClientSession:
    store = SettingsStore(home)
    store.update(**settings)
    # One attempt: these tests want the first answer, not retries of a refused handshake.
    return ClientSession(store, CredentialStore(home), server=address, retry_attempts=1)


def test_server_refuses_plaintext_on_a_public_address(tmp_path):
    data_dir = tmp_path / "data"
    with pytest.raises(ValueError, match=r"refusing to serve plaintext on 0\.0\.0\.0:0") as refused:
        HiveMindServer(ServerSettings.load(data_dir, listen="0.0.0.0:0"))
    assert "--tls-cert" in str(refused.value) and "--insecure" in str(refused.value)
    assert not (data_dir / "hivemind.db").exists()  # refused before any state was made


async def test_insecure_or_tls_lets_the_server_listen_everywhere(make_server, pki):
    cert = pki["server"]
    # Binding the wildcard only listens; every call below still goes to 127.0.0.1.
    insecure = await make_server(listen="0.0.0.0:0", insecure=True)
    encrypted = await make_server(
        listen="0.0.0.0:0", tls_cert_file=str(cert.cert_file), tls_key_file=str(cert.key_file)
    )
    assert insecure.port and encrypted.port
    # Any 127.0.0.0/8 address is loopback: plaintext is fine there without the flag.
    local = await make_server(listen="127.0.0.2:0")
    assert local.port


async def test_server_command_says_why_it_will_not_start(tmp_path):
    done = await asyncio.to_thread(
        server_cli, "run", "--data-dir", str(tmp_path / "d"), "--listen", "0.0.0.0:0", timeout=60
    )
    assert done.returncode == 1
    assert (
        done.stderr.strip()
        .splitlines()[-1]
        .startswith("error: refusing to serve plaintext on 0.0.0.0:0")
    )
    assert "listening" not in done.stdout


async def test_client_trusting_the_right_ca_works(tls_server, pki, tmp_path):
    async with client(
        tmp_path / "home", tls_server.address, tls=True, ca_file=str(pki["good_ca"])
    ) as session:
        user = await session.register("tls_alice", PASSWORD)
        balance = await session.account.GetBalance(account_pb2.GetBalanceRequest())
    assert user.username == "tls_alice"
    assert balance.starter_ucpt == tls_server.settings.signup_grant_ucpt


@pytest.mark.parametrize("trust", ["evil_ca", "system store"])
async def test_client_with_the_wrong_ca_is_refused(tls_server, pki, tmp_path, trust):
    ca_file = str(pki[trust]) if trust in pki else ""
    home = tmp_path / "home"
    async with client(home, tls_server.address, tls=True, ca_file=ca_file) as session:
        with pytest.raises(ClientError) as refused:
            await session.register("tls_mallory", PASSWORD)
    assert refused.value.code == grpc.StatusCode.UNAVAILABLE
    assert "CERTIFICATE_VERIFY_FAILED" in refused.value.message
    # The password never reached the server: the account does not exist.
    async with client(home, tls_server.address, tls=True, ca_file=str(pki["good_ca"])) as good:
        with pytest.raises(ClientError) as unknown:
            await good.login("tls_mallory", PASSWORD)
    assert unknown.value.code == grpc.StatusCode.UNAUTHENTICATED


async def test_plaintext_client_cannot_talk_to_a_tls_server(tls_server, tmp_path):
    async with client(tmp_path / "home", tls_server.address, tls=False) as session:
        with pytest.raises(ClientError) as refused:
            await session.register("tls_plain", PASSWORD)
    assert refused.value.code == grpc.StatusCode.UNAVAILABLE


class Eavesdropper:
    """A plain TCP listener on 127.0.0.1 that records every connection and byte sent to it
    (what anyone on the network path would see of a plaintext call)."""

    def __init__(self) -> None:
        self.connections = 0
        self.received = b""
        self._server: asyncio.Server | None = None
        self.port = 0

    async def __aenter__(self) -> Eavesdropper:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        with contextlib.suppress(TimeoutError):
            self.received += await asyncio.wait_for(reader.read(65536), 2)
        writer.close()

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()


# "[::ffff:127.0.0.1]" is routed to 127.0.0.1 (so the test sends nothing off this machine),
# yet the client does not count it as loopback: to the transport rule it is a remote server.
MAPPED_LOOPBACK = "::ffff:127.0.0.1"


@pytest.mark.skipif(is_loopback(MAPPED_LOOPBACK), reason="this Python counts it as loopback")
async def test_tokens_never_cross_plaintext_off_loopback(tmp_path):
    home = tmp_path / "home"
    async with Eavesdropper() as wire:
        address = f"[{MAPPED_LOOPBACK}]:{wire.port}"
        # A logged-in user whose session would carry a bearer token on every call.
        CredentialStore(home).save_user(
            address,
            UserCredential(
                username="alice",
                refresh_token="refresh-secret",
                access_token="access-secret",
                access_expires_at=4_000_000_000,
            ),
        )
        async with client(home, address, tls=False, insecure=False) as session:
            with pytest.raises(ClientError) as refused:
                await session.account.GetBalance(account_pb2.GetBalanceRequest())
            with pytest.raises(ClientError) as login_refused:
                await session.login("alice", PASSWORD)
        await asyncio.sleep(0.5)
        assert refused.value.code == grpc.StatusCode.FAILED_PRECONDITION
        assert "refusing to talk to" in refused.value.message
        assert "in plaintext" in login_refused.value.message
        assert (wire.connections, wire.received) == (0, b"")

        # The control: told the network is trusted, the same client does connect, which
        # shows the listener above would have seen a plaintext call.
        async with client(home, address, tls=False, insecure=True) as session:
            with pytest.raises(ClientError):
                await session.account.GetBalance(account_pb2.GetBalanceRequest(), timeout=3)
        assert wire.connections >= 1
        assert wire.received.startswith(b"PRI * HTTP/2.0")
