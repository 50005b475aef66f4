"""tests/server/test_account_service.py again, with every server on a fresh PostgreSQL database."""

from tests.server.test_account_service import *  # noqa: F403
