"""tests/security/test_flooding.py again, with every server on a fresh PostgreSQL database."""

from tests.security.test_flooding import *  # noqa: F403
