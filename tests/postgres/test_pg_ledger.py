"""The ledger's property test (tests/server/test_ledger.py) again, on PostgreSQL: each
Hypothesis example gets a fresh database, dropped at its teardown."""

from __future__ import annotations

import pytest

from server.store.db import Database
from tests.kit.postgres import cluster_url, create_database, drop_database
from tests.server.test_ledger import LedgerMachine


class PostgresLedgerMachine(LedgerMachine):
    def new_database(self) -> Database:
        self.database_url = create_database(cluster_url())
        return Database(self.database_url)

    def teardown(self) -> None:
        if hasattr(self, "db"):
            self.db.close()
            drop_database(cluster_url(), self.database_url)


PostgresLedgerMachine.TestCase.settings = LedgerMachine.TestCase.settings
# `postgres_url` skips (fails under CI=true) before any example runs without PostgreSQL.
TestPostgresLedgerInvariants = pytest.mark.usefixtures("postgres_url")(
    PostgresLedgerMachine.TestCase
)
