"""Whole jobs through a real worker agent (process executor) and a real server: the merged
output is right and every CPT is accounted for."""

from __future__ import annotations

import collections
import json
import math
import re

import pytest

from proto.hivemind.v1 import common_pb2
from tests.kit.network import download_results, signup_grant, submit, wait_for_job
from tests.kit.paths import EXAMPLES


@pytest.fixture
def server_settings():
    return {"heartbeat_interval_s": 1}


async def test_pi_job_is_computed_and_paid(server, network, tmp_path):
    alice = await network.person(server.address, "alice")
    bob = await network.person(server.address, "bob")
    grant = await signup_grant(alice)
    bob.settings.update_contributor(cores=2)
    worker = network.start_worker(bob)

    job = await submit(alice, EXAMPLES / "pi", tasks=4, memory_mb=256)
    held_at_submit = (await alice.balance()).escrow_ucpt
    assert held_at_submit == job.max_cost_ucpt > 0
    job = await wait_for_job(alice, job.job_id)
    assert job.state == common_pb2.JOB_STATE_DONE
    assert job.tasks_done == 4

    results = await download_results(alice, job.job_id, tmp_path / "results")
    assert sorted(r.index for r in results.results) == [0, 1, 2, 3]
    inside = samples = 0
    for index in range(4):
        result = json.loads((tmp_path / "results" / str(index) / "result.json").read_text())
        assert result["task"] == index
        inside += result["inside"]
        samples += result["samples"]
    assert abs(4 * inside / samples - math.pi) < 0.01

    # Paid once per task, from escrow; the rest refunded; nothing created or lost.
    alice_balance, bob_balance = await alice.balance(), await bob.balance()
    earned = bob_balance.balance_ucpt - grant
    assert earned > 0
    assert job.cost_ucpt == earned
    assert alice_balance.balance_ucpt == grant - earned
    assert alice_balance.escrow_ucpt == 0
    assert job.refunded_ucpt == job.max_cost_ucpt - job.cost_ucpt
    assert alice_balance.balance_ucpt + bob_balance.balance_ucpt == 2 * grant
    assert worker.tasks_done == 4
    assert worker.earned_ucpt == earned


async def test_wordcount_counts_exactly(server, network, tmp_path):
    alice = await network.person(server.address, "alice")
    bob = await network.person(server.address, "bob")
    network.start_worker(bob)
    inputs = sorted((EXAMPLES / "wordcount" / "inputs").glob("*.txt"))
    assert len(inputs) == 3

    job = await submit(alice, EXAMPLES / "wordcount", inputs=inputs)
    job = await wait_for_job(alice, job.job_id)
    assert job.state == common_pb2.JOB_STATE_DONE

    await download_results(alice, job.job_id, tmp_path / "results")
    merged = collections.Counter()
    for folder in (tmp_path / "results").iterdir():
        merged.update(json.loads((folder / "counts.json").read_text())["counts"])
    expected = collections.Counter()
    for path in inputs:
        expected.update(re.findall(r"\w+", path.read_text().lower()))
    assert merged == expected
    assert merged["the"] == 8  # "The" and "the" are one word
    assert merged["hive"] == 3
    assert merged["tokens"] == 2
