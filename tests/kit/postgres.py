"""Throwaway PostgreSQL databases for tests (`--db=postgres`): one per server data dir (or
per ledger example), created on the cluster that `.ci/postgres-setup.sh` sets up and dropped
afterwards, and named in the data dir's server.toml so that a server, the admin CLI and the
tests' helpers started on that data dir all use it.

The cluster's URL comes from HIVEMIND_TEST_POSTGRES_URL (what the setup script prints);
its role must be allowed to create databases.
"""

from __future__ import annotations

import os
import time
import tomllib
import uuid
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import create_engine, make_url, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import NullPool

DEFAULT_URL = "postgresql+psycopg://hivemind:hivemind@127.0.0.1:5432/hivemind_test"
DATABASE_PREFIX = "hm_test_"


def cluster_url() -> str:
    return os.environ.get("HIVEMIND_TEST_POSTGRES_URL") or DEFAULT_URL


def postgres_problem(url: str) -> str | None:
    """Why tests cannot use PostgreSQL at `url`, or None when they can."""
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return "psycopg is not installed (pip install -e '.[dev]')"
    shown = make_url(url).render_as_string(hide_password=True)
    engine = create_engine(url, poolclass=NullPool, connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as conn:
            may_create = "SELECT rolcreatedb FROM pg_roles WHERE rolname = current_user"
            if not conn.execute(text(may_create)).scalar():
                return f"the role of {shown} may not create databases"
    except Exception as exc:
        reason = " ".join(str(exc).split())[:200]
        return f"no PostgreSQL at {shown} (run: sudo bash .ci/postgres-setup.sh): {reason}"
    finally:
        engine.dispose()
    return None


def _admin(url: str):
    # CREATE/DROP DATABASE cannot run inside a transaction block.
    return create_engine(url, poolclass=NullPool, isolation_level="AUTOCOMMIT")


def create_database(url: str) -> str:
    """A new empty database on the cluster at `url`; returns its URL (password kept)."""
    name = f"{DATABASE_PREFIX}{uuid.uuid4().hex[:12]}"
    engine = _admin(url)
    try:
        with engine.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        engine.dispose()
    return make_url(url).set(database=name).render_as_string(hide_password=False)


def drop_database(url: str, database_url: str) -> None:
    """Drops a database made by create_database on the cluster at `url`, first closing the
    sessions the tests left on it (a killed server subprocess may leave one for a moment).

    Not DROP ... WITH (FORCE): it refuses, for a role that is not a superuser, when an
    autovacuum worker happens to be in the database; a plain DROP makes autovacuum leave."""
    name = make_url(database_url).database or ""
    if not name.startswith(DATABASE_PREFIX):
        raise ValueError(f"refusing to drop {name!r}: not a test database")
    engine = _admin(url)
    try:
        with engine.connect() as conn:
            for attempt in range(1, 11):
                conn.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                        " WHERE datname = :name AND usename = current_user"
                        " AND pid <> pg_backend_pid()"
                    ),
                    {"name": name},
                )
                try:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
                    return
                except OperationalError:  # still in use: a session was closing
                    if attempt == 10:
                        raise
                    time.sleep(0.2)
    finally:
        engine.dispose()


def database_url_of(data_dir: Path) -> str | None:
    """The database a server on `data_dir` uses: PostgreSQL when its server.toml says so."""
    config = data_dir / "server.toml"
    if not config.exists():
        return None
    return tomllib.loads(config.read_text()).get("server", {}).get("database_url")


def give_database(data_dir: Path, new_database: Callable[[], str]) -> None:
    """Names a database from `new_database()` in `data_dir`'s server.toml, keeping its other
    settings; a data dir that names one already (a restart) keeps it."""
    config = data_dir / "server.toml"
    text_before = config.read_text() if config.exists() else ""
    if "database_url" in text_before:
        return
    data_dir.mkdir(parents=True, exist_ok=True)
    setting = f'database_url = "{new_database()}"\n'
    if "[server]\n" in text_before:
        config.write_text(text_before.replace("[server]\n", "[server]\n" + setting, 1))
    else:
        config.write_text("[server]\n" + setting + text_before)
