"""Fixtures of the server tests."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from server.store.db import Database


@pytest.fixture
def open_database() -> Callable[[Path], Database]:
    """`db = open_database(data_dir)`: a new, empty database that a server started on
    `data_dir` uses (SQLite in the data dir). tests/postgres/test_pg_migrations.py overrides
    it with a fresh PostgreSQL database."""
    return lambda data_dir: Database.for_data_dir(data_dir)
