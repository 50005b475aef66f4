"""Fixtures of the server tests."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from server.store.db import Database
from tests.kit.postgres import database_url_of


@pytest.fixture
def open_database(server_database: Callable[[Path], None]) -> Callable[[Path], Database]:
    """`db = open_database(data_dir)`: a new, empty database that a server started on
    `data_dir` uses: SQLite in the data dir, or with --db=postgres a fresh PostgreSQL database
    named in its server.toml (so the server, the admin CLI and the tests' helpers use it)."""

    def open_(data_dir: Path) -> Database:
        server_database(data_dir)
        return Database.for_data_dir(data_dir, database_url_of(data_dir))

    return open_
