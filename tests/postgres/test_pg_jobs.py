"""tests/server/test_jobs.py again, with every server on a fresh PostgreSQL database."""

from tests.server.test_jobs import *  # noqa: F403
