"""tests/security/test_quotas.py again, with every server on a fresh PostgreSQL database."""

from tests.security.test_quotas import *  # noqa: F403
