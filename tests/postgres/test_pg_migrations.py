"""The migration tests (tests/server/test_migrations*.py) that mean something on PostgreSQL,
on a fresh PostgreSQL database each: the revisions from empty build schema.py's schema, a 0001
database keeps its rows and serves the current code, two servers starting together migrate
once (the advisory lock), downgrade and back, and the `admin db` commands. SQLite's own
concerns (the backup file, legacy files, byte-identical refusal) stay there."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from server.store.db import Database
from tests.server.test_migrations import (
    test_a_0001_database_keeps_every_row_and_the_server_runs_on_it,
    test_downgrade_to_0001_and_back_keeps_rows,
    test_revisions_from_empty_build_exactly_schema_py,
    test_servers_starting_together_upgrade_once,
)
from tests.server.test_migrations_cli import test_admin_db_status_and_upgrade

__all__ = [
    "test_a_0001_database_keeps_every_row_and_the_server_runs_on_it",
    "test_admin_db_status_and_upgrade",
    "test_downgrade_to_0001_and_back_keeps_rows",
    "test_revisions_from_empty_build_exactly_schema_py",
    "test_servers_starting_together_upgrade_once",
]


@pytest.fixture
def open_database(postgres_database: Callable[[], str]) -> Callable[[Path], Database]:
    """A fresh PostgreSQL database for `data_dir`, named in its server.toml so that a server,
    the admin CLI and the tests' helpers started on that data dir all use it."""

    def open_(data_dir: Path) -> Database:
        url = postgres_database()
        data_dir.mkdir(parents=True, exist_ok=True)
        (data_dir / "server.toml").write_text(f'[server]\ndatabase_url = "{url}"\n')
        return Database.for_data_dir(data_dir, url)

    return open_
