"""Fixtures every folder may use, and the `--db` option.

A real server in this process (`server`, `make_server`) or in a subprocess that can be
SIGKILLed (`server_process`), a one-line way to get a logged-in user (`user_session`), the
raw stubs on a channel to `server` (`stubs`), the `hivemind` CLI (`cli`), people with worker
agents (`network`), the Docker daemon with the runtime image (`runtime_image`), and Redis
(`redis_url` shared by the session, `redis_server` a test's own to kill and restart). Their
helpers are in tests/kit.

    async def test_x(server, user_session):
        token, metadata = await user_session(server, "alice")
        async with grpc.aio.insecure_channel(server.address) as channel:
            await account_pb2_grpc.AccountServiceStub(channel).GetBalance(
                account_pb2.GetBalanceRequest(), metadata=metadata)

Override settings of the `server` fixture by redefining `server_settings` in a test module
(`return {"access_token_ttl_s": 2}`), or start more servers with `await make_server(...)`.

Databases: every server these fixtures start is on SQLite in its data dir (`--db=sqlite`, the
default). `pytest --db=postgres` runs the tests marked `db` (worth running on both databases)
and `postgres` (about PostgreSQL itself) with each server data dir on a fresh PostgreSQL
database instead; `make test` runs the suite both ways.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("HIVEMIND_KEYRING", "file")  # never touch a real keychain in tests

import grpc
import pytest
from sqlalchemy import make_url

from server.app import HiveMindServer
from tests.kit.accounts import PASSWORD, UserSession, register_user
from tests.kit.ci import unavailable
from tests.kit.client_cli import CliResult, run_in_thread
from tests.kit.docker import RUNTIME, docker_problem
from tests.kit.loopback_networks import close_all as close_loopback_networks
from tests.kit.network import Network
from tests.kit.postgres import (
    cluster_url,
    create_database,
    drop_database,
    give_database,
    postgres_problem,
)
from tests.kit.redis import RedisServer, redis_problem, shared_url
from tests.kit.servers import SUITE_SERVER_ENV, ServerProcess, start_server
from tests.kit.stubs import Stubs

# Every server the suite starts in this process gets the suite's own settings too (subprocesses
# get them from tests/kit/servers.py's server_env).
for _name, _value in SUITE_SERVER_ENV.items():
    os.environ.setdefault(_name, _value)

DATABASES = ("sqlite", "postgres")


# -- the database the servers run on ------------------------------------------------------------


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--db",
        choices=DATABASES,
        default="sqlite",
        help="the database of every server the tests start: sqlite (default: every test) or"
        " postgres (only the tests marked db or postgres, each server data dir on a fresh"
        " PostgreSQL database at HIVEMIND_TEST_POSTGRES_URL)",
    )


def pytest_report_header(config: pytest.Config) -> str:
    if config.getoption("db") == "postgres":
        shown = make_url(cluster_url()).render_as_string(hide_password=True)
        return f"database: postgres ({shown}): the tests marked db or postgres"
    return "database: sqlite (--db=postgres runs the tests marked db or postgres on PostgreSQL)"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """--db=sqlite runs every test but PostgreSQL's own; --db=postgres runs the tests marked
    `db` and `postgres`. The others are deselected (not skipped: they run in the other run)."""
    on_postgres = config.getoption("db") == "postgres"
    selected, deselected = [], []
    for item in items:
        postgres_only = item.get_closest_marker("postgres") is not None
        both = item.get_closest_marker("db") is not None
        wanted = (postgres_only or both) if on_postgres else not postgres_only
        (selected if wanted else deselected).append(item)
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = selected


@pytest.fixture(scope="session")
def qapp_cls() -> Any:
    """pytest-qt's application is the desktop app's own QApplication class, as in main.py."""
    from app.ui.link_events import LinkApplication

    return LinkApplication


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """The test cluster's URL; skips (or fails under CI=true) when it cannot be used."""
    url = cluster_url()
    problem = postgres_problem(url)
    if problem:
        unavailable("PostgreSQL", problem)
    return url


@pytest.fixture(autouse=True)
def _database_under_test(request: pytest.FixtureRequest) -> None:
    """With --db=postgres every test needs PostgreSQL, even one that starts no server."""
    if request.config.getoption("db") == "postgres":
        request.getfixturevalue("postgres_url")


@pytest.fixture
def postgres_database(postgres_url: str) -> Iterator[Callable[[], str]]:
    """`url = postgres_database()`: a new empty database; every one is dropped afterwards."""
    made: list[str] = []

    def make() -> str:
        made.append(create_database(postgres_url))
        return made[-1]

    yield make
    for database_url in made:
        drop_database(postgres_url, database_url)


@pytest.fixture
def server_database(request: pytest.FixtureRequest) -> Callable[[Path], None]:
    """`prepare(data_dir)` runs before a server of `make_server` or `server_process` starts on
    a data dir. SQLite (--db=sqlite) needs nothing; with --db=postgres each new data dir gets a
    fresh PostgreSQL database, named in its server.toml (so a restart, the admin CLI and test
    helpers find the same database) and dropped after the test."""
    if request.config.getoption("db") != "postgres":
        return lambda data_dir: None
    new_database: Callable[[], str] = request.getfixturevalue("postgres_database")
    return lambda data_dir: give_database(data_dir, new_database)


# -- Redis ---------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A Redis every test of the session may share (each server under its own namespace:
    tests/kit/redis.py): CI's (HIVEMIND_TEST_REDIS_URL), else one started here. Skips (or
    fails under CI=true) without redis-server."""
    problem = redis_problem()
    if problem:
        unavailable("Redis", problem)
    if shared_url():
        yield shared_url()
        return
    server = RedisServer(tmp_path_factory.mktemp("redis")).start()
    yield server.url
    server.kill()


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    """A Redis of this test's own, which it may kill and restart (`restart()`)."""
    problem = redis_problem()
    if problem:
        unavailable("Redis", problem)
    server = RedisServer(tmp_path / "redis").start()
    yield server
    server.kill()


# -- servers -------------------------------------------------------------------------------------


@pytest.fixture
def server_settings() -> dict[str, Any]:
    """Overrides for the `server` fixture's ServerSettings; redefine it to change them."""
    return {}


@pytest.fixture
async def make_server(
    tmp_path: Path, server_database: Callable[[Path], None]
) -> AsyncIterator[Callable[..., Awaitable[HiveMindServer]]]:
    """`await make_server(**overrides)`: a started server on 127.0.0.1 with a free port and
    a fresh data dir (pass data_dir= to reuse one). All are stopped after the test, and the
    channels the test opened to them from other loopback addresses closed."""
    started: list[HiveMindServer] = []

    async def start(**overrides: Any) -> HiveMindServer:
        data_dir = Path(overrides.pop("data_dir", None) or tmp_path / f"server-{len(started)}")
        server_database(data_dir)
        hivemind_server = await start_server(data_dir, **overrides)
        started.append(hivemind_server)
        return hivemind_server

    yield start
    await close_loopback_networks()
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
async def stubs(grpc_channel: grpc.aio.Channel, server: HiveMindServer) -> Stubs:
    """The job, node, artifact and account stubs on a channel to the `server` fixture."""
    return Stubs(grpc_channel, server.address)


@pytest.fixture
def user_session() -> Callable[..., Awaitable[UserSession]]:
    """`token, metadata = await user_session(server, "alice", admin=False)`."""

    async def create(
        hivemind_server: Any, username: str, password: str = PASSWORD, admin: bool = False
    ) -> UserSession:
        return await register_user(
            hivemind_server.address,
            username,
            password,
            admin=admin,
            data_dir=Path(hivemind_server.settings.data_dir),
        )

    return create


@pytest.fixture
async def server_process(
    tmp_path: Path, server_database: Callable[[Path], None]
) -> AsyncIterator[Callable[..., Awaitable[ServerProcess]]]:
    """`proc = await server_process()` starts a server subprocess (data_dir=, port=,
    extra_args=, env= optional); `await proc.kill()` then `await proc.start()` restarts it on
    the same data dir and port. Every process is killed after the test (and the channels to
    it from other loopback addresses closed)."""
    processes: list[ServerProcess] = []

    async def start(
        data_dir: Path | None = None,
        port: int | None = None,
        extra_args: list[str] | None = None,
        env: dict[str, str] | None = None,
    ) -> ServerProcess:
        index = len(processes)
        data_dir = data_dir or tmp_path / f"server-process-{index}"
        server_database(data_dir)
        proc = ServerProcess.on(
            data_dir,
            tmp_path / f"server-process-{index}.log",
            port=port,
            extra_args=extra_args or [],
            env=env,
        )
        processes.append(proc)
        return await proc.start()

    yield start
    await close_loopback_networks()
    for proc in processes:
        await proc.kill()


# -- the client ----------------------------------------------------------------------------------


@pytest.fixture
def hivemind_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The HiveMind home of the `cli` fixture's user (HIVEMIND_HOME), with the file keyring."""
    home = tmp_path / "home"
    monkeypatch.setenv("HIVEMIND_HOME", str(home))
    monkeypatch.setenv("HIVEMIND_KEYRING", "file")
    return home


@pytest.fixture
def cli(hivemind_home: Path) -> Callable[..., Awaitable[CliResult]]:
    """`result = await cli("account", "balance", "--json", server=srv, stdin="...")`: the real
    `hivemind` CLI in a worker thread (its own event loop, as in a terminal) while the test's
    loop keeps serving the in-process server."""

    async def run(*argv: str, server: Any = None, stdin: str = "") -> CliResult:
        args = list(argv)
        if server is not None:
            args += ["--server", server if isinstance(server, str) else server.address]
        return await asyncio.to_thread(run_in_thread, args, stdin)

    return run


@pytest.fixture
async def network(tmp_path: Path) -> AsyncIterator[Network]:
    """People, workers and jobs of one test, cleaned up after it."""
    net = Network(tmp_path)
    yield net
    await net.close()


# -- Docker --------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def runtime_image() -> str:
    """The runtime image's tag; skips (or fails under CI=true) without dockerd or image."""
    from app.services.executors.docker.config import DEFAULT_RUNTIME_IMAGES

    image = DEFAULT_RUNTIME_IMAGES[RUNTIME]
    problem = docker_problem(image)
    if problem:
        unavailable("Docker", problem)
    return image


@pytest.fixture(scope="session")
def docker_client(runtime_image: str) -> Iterator[Any]:
    import docker

    client = docker.from_env()
    yield client
    client.close()
