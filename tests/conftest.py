"""Fixtures shared by every test: a real server in this process, a real server in a
subprocess (killable with SIGKILL), a one-line way to get a logged-in user, and `stubs` (the
job, node, artifact and account stubs of tests/server/jobkit.py on a channel to `server`).

    async def test_x(server, user_session):
        token, metadata = await user_session(server, "alice")
        async with grpc.aio.insecure_channel(server.address) as channel:
            await account_pb2_grpc.AccountServiceStub(channel).GetBalance(
                account_pb2.GetBalanceRequest(), metadata=metadata)

Override settings of the `server` fixture by redefining `server_settings` in a test module
(`return {"access_token_ttl_s": 2}`), or start more servers with `await make_server(...)`.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any, NoReturn

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("HIVEMIND_KEYRING", "file")  # never touch a real keychain in tests
# Every server the suite starts (in this process or as a subprocess) gives new accounts 100 CPT
# of starter credit, the sign-up grant the tests' jobs were written for; the default is much
# smaller (server/config.py), and tests about starter credit set what they test.
os.environ.setdefault("HIVEMIND_SERVER_SIGNUP_GRANT_UCPT", str(100_000_000))

import grpc
import pytest

from proto.hivemind.v1 import auth_pb2, auth_pb2_grpc, node_pb2, node_pb2_grpc
from server.app import HiveMindServer
from server.config import ServerSettings
from tests.server.jobkit import Stubs

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PASSWORD = "correct horse battery"


def unavailable(what: str, problem: str) -> NoReturn:
    """A test's real setup is missing: skip on a developer's machine, but fail under CI=true,
    where the CI script installs and starts everything (a skip must never pass CI)."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{what} tests cannot run in CI: {problem}")
    pytest.skip(problem, allow_module_level=True)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def server_settings() -> dict[str, Any]:
    """Overrides for the `server` fixture's ServerSettings; redefine it to change them."""
    return {}


@pytest.fixture
def server_database() -> Callable[[Path], None]:
    """`prepare(data_dir)` runs before a server of `make_server` or `server_process` starts on
    a data dir. SQLite (the default) needs nothing; tests/postgres/conftest.py overrides it to
    give each new data dir a fresh PostgreSQL database, named in the data dir's server.toml
    (so a restart, the admin CLI and test helpers find the same database)."""
    return lambda data_dir: None


@pytest.fixture
async def make_server(
    tmp_path: Path, server_database: Callable[[Path], None]
) -> AsyncIterator[Callable[..., Awaitable[HiveMindServer]]]:
    """`await make_server(**overrides)`: a started server on 127.0.0.1 with a free port and
    a fresh data dir (pass data_dir= to reuse one). All are stopped after the test."""
    started: list[HiveMindServer] = []

    async def start(**overrides: Any) -> HiveMindServer:
        data_dir = overrides.pop("data_dir", None) or tmp_path / f"server-{len(started)}"
        server_database(Path(data_dir))
        overrides.setdefault("listen", "127.0.0.1:0")
        settings = ServerSettings.load(data_dir, **overrides)
        hivemind_server = HiveMindServer(settings)
        await hivemind_server.start()
        started.append(hivemind_server)
        return hivemind_server

    yield start
    for hivemind_server in reversed(started):
        await hivemind_server.stop(grace=0.5)


@pytest.fixture
async def server(
    make_server: Callable[..., Awaitable[HiveMindServer]], server_settings: dict[str, Any]
) -> HiveMindServer:
    return await make_server(**server_settings)


@pytest.fixture
async def grpc_channel(server: HiveMindServer) -> AsyncIterator[grpc.aio.Channel]:
    async with grpc.aio.insecure_channel(server.address) as channel:
        yield channel


@pytest.fixture
async def stubs(grpc_channel: grpc.aio.Channel) -> Stubs:
    """The job, node, artifact and account stubs on a channel to the `server` fixture."""
    return Stubs(grpc_channel)


class UserSession(tuple):
    """Unpacks as (access_token, metadata); also carries the rest of the session."""

    user_id: str
    username: str
    password: str
    refresh_token: str

    def __new__(cls, session: auth_pb2.Session, password: str) -> UserSession:
        metadata = (("authorization", f"Bearer {session.access_token}"),)
        self = super().__new__(cls, (session.access_token, metadata))
        self.user_id = session.user.user_id
        self.username = session.user.username
        self.password = password
        self.refresh_token = session.refresh_token
        return self

    @property
    def access_token(self) -> str:
        return self[0]

    @property
    def metadata(self) -> tuple[tuple[str, str], ...]:
        return self[1]


async def register_user(
    address: str,
    username: str,
    password: str = DEFAULT_PASSWORD,
    *,
    admin: bool = False,
    data_dir: Path | None = None,
) -> UserSession:
    """Registers `username` over gRPC. With admin=True, grants the admin role in the data
    dir's database (as `hivemind-server admin set-admin` does) and logs in again."""
    async with grpc.aio.insecure_channel(address) as channel:
        stub = auth_pb2_grpc.AuthServiceStub(channel)
        session = await stub.Register(
            auth_pb2.RegisterRequest(username=username, password=password)
        )
        if admin:
            if data_dir is None:
                raise ValueError("admin=True needs the server's data_dir")
            from server.accounts.users import set_admin
            from server.store.db import Database

            # The data dir's own database (server.toml may name PostgreSQL), as the CLI does.
            db = Database.for_data_dir(data_dir, ServerSettings.load(data_dir).database_url or None)
            try:
                db.transaction_sync(set_admin, username, True)
            finally:
                db.close()
            session = await stub.Login(auth_pb2.LoginRequest(username=username, password=password))
    return UserSession(session, password)


async def rpc_error(call: Awaitable[Any]) -> grpc.aio.AioRpcError:
    """The error a call was refused with; fails the test when the call succeeds."""
    try:
        await call
    except grpc.aio.AioRpcError as error:
        return error
    raise AssertionError("the call succeeded")


async def heartbeat(address: str, node_id: str, secret: str) -> grpc.StatusCode:
    """What the server at `address` says to a heartbeat with this node credential: OK, or
    the code it refused it with (UNAUTHENTICATED for a secret it no longer takes)."""
    metadata = (("authorization", f"Node {node_id}.{secret}"),)
    async with grpc.aio.insecure_channel(address) as channel:
        try:
            await node_pb2_grpc.NodeServiceStub(channel).Heartbeat(
                node_pb2.HeartbeatRequest(), metadata=metadata
            )
        except grpc.aio.AioRpcError as error:
            return error.code()
    return grpc.StatusCode.OK


@pytest.fixture
def user_session() -> Callable[..., Awaitable[UserSession]]:
    """`token, metadata = await user_session(server, "alice", admin=False)`."""

    async def create(
        hivemind_server: Any, username: str, password: str = DEFAULT_PASSWORD, admin: bool = False
    ) -> UserSession:
        return await register_user(
            hivemind_server.address,
            username,
            password,
            admin=admin,
            data_dir=Path(hivemind_server.settings.data_dir),
        )

    return create


class ServerProcess:
    """`python -m server run` as a real subprocess on a fixed port, so clients can reconnect
    to the same address after `kill()` (SIGKILL) and `start()` on the same data dir."""

    def __init__(self, data_dir: Path, port: int, log_path: Path, extra_args: list[str]) -> None:
        self.data_dir = data_dir
        self.port = port
        self.address = f"127.0.0.1:{port}"
        self.log_path = log_path
        self.extra_args = extra_args
        self.settings = ServerSettings.load(data_dir, listen=self.address)
        self.process: asyncio.subprocess.Process | None = None

    async def start(self, timeout: float = 30.0) -> ServerProcess:
        if self.process is not None and self.process.returncode is None:
            raise RuntimeError("server process already running")
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
        with open(self.log_path, "ab") as log_file:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "server",
                "run",
                "--data-dir",
                str(self.data_dir),
                "--listen",
                self.address,
                *self.extra_args,
                cwd=REPO_ROOT,
                env=env,
                stdout=log_file,
                stderr=log_file,
            )
        await self._wait_ready(timeout)
        return self

    async def _wait_ready(self, timeout: float) -> None:
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            assert self.process is not None
            if self.process.returncode is not None:
                raise RuntimeError(f"server exited early:\n{self.log_path.read_text()[-3000:]}")
            if f"listening on {self.address}" in self.log_path.read_text(errors="replace"):
                async with grpc.aio.insecure_channel(self.address) as channel:
                    try:
                        await asyncio.wait_for(channel.channel_ready(), 5)
                        return
                    except TimeoutError:
                        pass
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(f"server not ready:\n{self.log_path.read_text()[-3000:]}")
            await asyncio.sleep(0.1)

    async def kill(self) -> None:
        """SIGKILL: no cleanup runs, as in a crash or power cut of the process."""
        await self._signal(signal.SIGKILL)

    async def stop(self, timeout: float = 15.0) -> int:
        """SIGTERM (graceful stop); returns the exit code."""
        return await self._signal(signal.SIGTERM, timeout)

    async def restart(self) -> ServerProcess:
        await self.kill()
        return await self.start()

    async def _signal(self, signum: int, timeout: float = 15.0) -> int:
        if self.process is None or self.process.returncode is not None:
            return self.process.returncode if self.process else 0
        self.process.send_signal(signum)
        return await asyncio.wait_for(self.process.wait(), timeout)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


@pytest.fixture
async def server_process(
    tmp_path: Path, server_database: Callable[[Path], None]
) -> AsyncIterator[Callable[..., Awaitable[ServerProcess]]]:
    """`proc = await server_process()` starts a server subprocess (data_dir=, port=,
    extra_args= optional); `await proc.kill()` then `await proc.start()` restarts it on
    the same data dir and port. Every process is killed after the test."""
    processes: list[ServerProcess] = []

    async def start(
        data_dir: Path | None = None, port: int | None = None, extra_args: list[str] | None = None
    ) -> ServerProcess:
        index = len(processes)
        data_dir = data_dir or tmp_path / f"server-process-{index}"
        server_database(data_dir)
        proc = ServerProcess(
            data_dir,
            port or free_port(),
            tmp_path / f"server-process-{index}.log",
            extra_args or [],
        )
        processes.append(proc)
        return await proc.start()

    yield start
    for proc in processes:
        await proc.kill()
