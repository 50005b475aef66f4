"""tests/security/test_rewards.py again, with every server on a fresh PostgreSQL database."""

from tests.security.test_rewards import *  # noqa: F403
