"""tests/security/test_revocation.py again on PostgreSQL: a role change or a ban made through one
replica, or by the admin CLI, is refused by the other replica too."""

from tests.security.test_revocation import *  # noqa: F403
