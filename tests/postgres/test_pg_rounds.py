"""tests/server/test_rounds.py again, with every server on a fresh PostgreSQL database: rounds
close, aggregate and move on once each under SERIALIZABLE transactions."""

from tests.server.test_rounds import *  # noqa: F403
