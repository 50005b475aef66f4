"""tests/security/test_starter_credit.py again on PostgreSQL."""

from tests.security.test_starter_credit import *  # noqa: F403
