"""Helpers that tests in several folders share, one concept per module (paths, servers, the
admin and client command lines, accounts, raw gRPC stubs, simulated nodes, people with worker
agents, PostgreSQL databases, certificates, ...). Fixtures live in conftest.py files, and no
test imports a conftest; a helper only one folder uses stays in that folder."""
