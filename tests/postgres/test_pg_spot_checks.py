"""tests/security/test_spot_checks.py again, with every server on a fresh PostgreSQL database."""

from tests.security.test_spot_checks import *  # noqa: F403
