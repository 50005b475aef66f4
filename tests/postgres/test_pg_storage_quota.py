"""tests/security/test_storage_quota.py again, with every server on a fresh PostgreSQL database."""

from tests.security.test_storage_quota import *  # noqa: F403
