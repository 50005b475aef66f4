"""tests/security/test_clawbacks.py again, with every server on a fresh PostgreSQL database."""

from tests.security.test_clawbacks import *  # noqa: F403
