"""tests/security/test_ways_out.py again, with every server on a fresh PostgreSQL database."""

from tests.security.test_ways_out import *  # noqa: F403
