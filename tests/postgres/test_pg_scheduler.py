"""tests/server/test_scheduler.py again, with every server on a fresh PostgreSQL database."""

from tests.server.test_scheduler import *  # noqa: F403
