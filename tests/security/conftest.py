"""Tests here may dial the server from other loopback addresses (netkit.py)."""

from tests.security.netkit import loopback_networks  # noqa: F401 - an autouse fixture
