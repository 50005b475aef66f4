"""tests/security/test_transfer_names.py again on PostgreSQL: the unknown-name budget is counted
in the database every replica shares."""

from tests.security.test_transfer_names import *  # noqa: F403
