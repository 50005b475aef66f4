"""The switch itself: servers started here really keep their state in PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from server.store.schema import users
from tests.kit.auditor import query

pytestmark = pytest.mark.postgres


async def test_servers_here_run_on_postgresql(server, user_session, server_process):
    await user_session(server, "alice", admin=True)
    data_dir = Path(server.settings.data_dir)
    assert server.ctx.db.engine.dialect.name == "postgresql"
    assert not (data_dir / "hivemind.db").exists()  # no SQLite file on the side
    count = server.ctx.db.transaction_sync(
        lambda conn: conn.execute(select(func.count()).select_from(users)).scalar()
    )
    assert count == 1
    # The auditor's helper reads the same database; the admin flag was set there too.
    assert query(data_dir / "hivemind.db", "SELECT username, is_admin FROM users") == [
        ("alice", True)
    ]

    proc = await server_process()
    assert proc.settings.database_url.startswith("postgresql")
    assert proc.settings.database_url != server.settings.database_url  # one database each
    assert not (proc.data_dir / "hivemind.db").exists()
