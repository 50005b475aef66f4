"""tests/security/test_trust_farming.py again, with every server on a fresh PostgreSQL database."""

from tests.security.test_trust_farming import *  # noqa: F403
