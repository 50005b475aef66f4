"""tests/security/test_failing_nodes.py again, with every server on a fresh PostgreSQL database."""

from tests.security.test_failing_nodes import *  # noqa: F403
