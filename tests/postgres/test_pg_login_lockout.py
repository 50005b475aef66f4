"""tests/security/test_login_lockout.py again on PostgreSQL: the count and the lock are shared by
two server replicas on one database through one atomic, serializable claim."""

from tests.security.test_login_lockout import *  # noqa: F403
