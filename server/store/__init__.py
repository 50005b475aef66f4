"""Storage: SQLAlchemy Core tables, the database handle (SQLite or PostgreSQL), Alembic
migrations and the SQLite-to-PostgreSQL copy."""
