"""tests/server/test_signup_limits_shared.py again, with the servers of each test on one fresh
PostgreSQL database: there the count is shared through SERIALIZABLE transactions."""

from tests.server.test_signup_limits_shared import *  # noqa: F403
