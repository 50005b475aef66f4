"""tests/security/test_trust.py again, with every server on a fresh PostgreSQL database."""

from tests.security.test_trust import *  # noqa: F403
