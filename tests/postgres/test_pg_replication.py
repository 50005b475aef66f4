"""tests/security/test_replication.py again, with every server on a fresh PostgreSQL database."""

from tests.security.test_replication import *  # noqa: F403
