"""tests/security/test_sybil_quorum.py again, with every server on a fresh PostgreSQL database."""

from tests.security.test_sybil_quorum import *  # noqa: F403
