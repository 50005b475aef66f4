"""A bulk insert through COPY (server/store/bulk.py) that meets a key another transaction
inserted meanwhile fails as an INSERT would, so a row-locking transaction runs again
(server/store/postgres.py) instead of failing its caller."""

from __future__ import annotations

import pytest
from sqlalchemy import Column, Connection, Integer, MetaData, Table, create_engine, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.pool import NullPool

from server import metrics
from server.store.bulk import execute_many
from server.store.postgres import locks_rows, make_postgres_engine, run_serializable

pytestmark = pytest.mark.postgres

KEYS = Table("bulk_conflict_keys", MetaData(), Column("id", Integer, primary_key=True))


def _retries() -> float:
    [family] = metrics.DB_RETRIES.collect()
    return next(s.value for s in family.samples if s.name.endswith("_total"))


def test_a_key_inserted_meanwhile_runs_the_transaction_again(postgres_database) -> None:
    url = postgres_database()
    engine = make_postgres_engine(url, threads=2)
    other = create_engine(url, poolclass=NullPool)
    KEYS.metadata.create_all(engine)
    tries: list[set[int]] = []

    @locks_rows
    def insert_missing(conn: Connection) -> None:
        """Inserts the keys 1 and 2 that are not there yet, as post_many does with
        idempotency keys: read, then insert."""
        there = set(conn.execute(select(KEYS.c.id)).scalars())
        tries.append(there)
        if len(tries) == 1:  # another transaction takes key 1 after the read
            with other.begin() as racing:
                racing.execute(insert(KEYS), [{"id": 1}])
        execute_many(conn, insert(KEYS), [{"id": i} for i in (1, 2) if i not in there])

    retried = _retries()
    try:
        run_serializable(engine, insert_missing)
        with engine.connect() as conn:
            found = sorted(conn.execute(select(KEYS.c.id)).scalars())
        # Outside a retried transaction, the COPY's failure is SQLAlchemy's, as an INSERT's.
        with pytest.raises(IntegrityError) as failed, engine.begin() as conn:
            execute_many(conn, insert(KEYS), [{"id": 3}, {"id": 2}])
        with engine.connect() as conn:
            after = sorted(conn.execute(select(KEYS.c.id)).scalars())
    finally:
        engine.dispose()
        other.dispose()
    assert tries == [set(), {1}]  # the second try saw the other's key and skipped it
    assert found == [1, 2]
    assert _retries() == retried + 1
    assert failed.value.orig.sqlstate == "23505"
    assert after == [1, 2]  # the failed COPY wrote nothing
