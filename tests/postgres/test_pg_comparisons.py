"""tests/security/test_comparisons.py again, with every server on a fresh PostgreSQL database."""

from tests.security.test_comparisons import *  # noqa: F403
