"""The switch that runs chosen test modules again on PostgreSQL.

Most test_pg_*.py here import the tests of one module elsewhere (`from tests.x.test_y import
*`): pytest collects them here too, where `server_database` below gives every server data
dir (of `make_server`, `server`, `server_process`) a fresh PostgreSQL database, named in the
data dir's server.toml, and drops it after the test. The test bodies stay where they are.
test_pg_switch.py, test_pg_server_replicas.py and test_pg_copy.py are PostgreSQL's own.

Locally these tests skip when PostgreSQL is not reachable; under CI=true they fail instead,
so a CI machine without PostgreSQL can never pass them by skipping.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.kit.ci import unavailable
from tests.kit.postgres import (
    cluster_url,
    create_database,
    drop_database,
    give_database,
    postgres_problem,
)


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
    return lambda data_dir: give_database(data_dir, postgres_database)
