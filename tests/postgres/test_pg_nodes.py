"""tests/server/test_nodes.py again, with every server on a fresh PostgreSQL database."""

from tests.server.test_nodes import *  # noqa: F403
