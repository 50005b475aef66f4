"""The switch that runs chosen test modules again on PostgreSQL.

Most test_pg_*.py here import the tests of one module elsewhere (`from tests.x.test_y import
*`): pytest collects them here too, where `server_database` below gives every server data
dir (of `make_server`, `server`, `server_process`) a fresh PostgreSQL database, named in the
data dir's server.toml, and drops it after the test. The test bodies stay where they are.
test_pg_switch.py and test_pg_server_replicas.py are PostgreSQL's own.

Locally these tests skip when PostgreSQL is not reachable; under CI=true they fail instead,
so a CI machine without PostgreSQL can never pass them by skipping.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import unavailable
from tests.postgres.pgkit import cluster_url, create_database, drop_database, postgres_problem
from tests.security.netkit import loopback_networks  # noqa: F401 - an autouse fixture

# The imported modules import their helpers as pytest puts them on the path (`from jobkit
# import ...` in tests/server); this directory is collected before theirs.
_SERVER_TESTS = str(Path(__file__).resolve().parent.parent / "server")
if _SERVER_TESTS not in sys.path:
    sys.path.insert(0, _SERVER_TESTS)


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """The test cluster's URL; skips (or fails under CI=true) when it cannot be used."""
    url = cluster_url()
    problem = postgres_problem(url)
    if problem:
        unavailable("PostgreSQL", problem)
    return url


@pytest.fixture(autouse=True)
def _only_with_postgres(postgres_url: str) -> None:
    """Every test here is about PostgreSQL, even one that starts no server."""


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
def server_database(postgres_database: Callable[[], str]) -> Callable[[Path], None]:
    def prepare(data_dir: Path) -> None:
        config = data_dir / "server.toml"
        text = config.read_text() if config.exists() else ""
        if "database_url" in text:
            return  # a restart on the same data dir keeps its database
        data_dir.mkdir(parents=True, exist_ok=True)
        setting = f'database_url = "{postgres_database()}"\n'
        if "[server]\n" in text:
            config.write_text(text.replace("[server]\n", "[server]\n" + setting, 1))
        else:
            config.write_text("[server]\n" + setting + text)

    return prepare
