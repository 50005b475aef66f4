"""tests/security/test_crash.py again, with every server on a fresh PostgreSQL database."""

from tests.security.test_crash import *  # noqa: F403
