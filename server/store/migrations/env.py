"""Alembic's environment for the server database: run by server/store/migrate.py, which opens
the connection, holds the transaction (and, on PostgreSQL, the migration lock) and passes the
connection in `config.attributes`. There is no alembic.ini and no offline (SQL script) mode."""

from __future__ import annotations

from alembic import context

from server.store.schema import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through server.store.migrate (it opens the connection)")

context.configure(
    connection=connection,
    # Used only when drafting a revision (autogenerate): revisions never import schema.py.
    target_metadata=metadata,
    # SQLite cannot alter most of a table in place; batch mode rebuilds it there.
    render_as_batch=True,
)
with context.begin_transaction():
    context.run_migrations()
