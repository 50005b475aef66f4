"""A job whose honest results differ (examples/montecarlo: π from a fresh random seed, with
replicas = 2 and a compare command), end to end through real worker agents of three owners
and a real server: each pair of replicas is compared by the third owner's worker running
compare.py, every task is accepted, and every micro-CPT is accounted for.

The scenario and its checks: montecarlo.py; the same in the Docker runtime image is in
test_worker_docker.py."""

from __future__ import annotations

import pytest

from tests.worker.montecarlo import run_montecarlo


@pytest.fixture
def server_settings():
    # Three owners' workers on this one machine: networks cannot be told apart here (a
    # private network's setting); tests/security proves the rule from distinct addresses.
    return {"heartbeat_interval_s": 1, "distinct_networks": False}


async def test_montecarlo_replicas_are_compared_by_a_third_owner(server, network, tmp_path):
    await run_montecarlo(server, network, tmp_path)
