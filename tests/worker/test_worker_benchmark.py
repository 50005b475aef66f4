"""The node's CPU benchmark score reaches the server: measured once (in a thread, while the
worker already works), cached, sent at the next registration without measuring again, and
measured again when the hardware it was measured on changed."""

from __future__ import annotations

import json

from sqlalchemy import select

from server.store.schema import nodes
from tests.kit.waiting import wait_until


async def _node_score(server, node_id: str) -> tuple[float, float]:
    row = await server.ctx.db.run(
        lambda conn: conn.execute(
            select(nodes.c.benchmark_score, nodes.c.hardware_json).where(nodes.c.id == node_id)
        ).first()
    )
    return row.benchmark_score, json.loads(row.hardware_json).get("benchmark_score", 0.0)


async def test_the_benchmark_score_is_measured_cached_and_reported(server, network):
    bob = await network.person(server.address, "bob")
    cache_file = bob.settings.cache_dir / "benchmark.json"

    worker = network.start_worker(bob, benchmark_s=0.3)
    await wait_until(lambda: worker.node_id, what="registration")
    node_id = worker.node_id

    async def scored() -> bool:
        return (await _node_score(server, node_id))[0] > 0

    await wait_until(scored, timeout=20, what="the benchmark score on the server")
    score, in_hardware = await _node_score(server, node_id)
    cached = json.loads(cache_file.read_text())
    assert score == in_hardware == cached["score"] >= 1
    await network.stop_workers()

    # The next start sends the cached score when it registers: nothing is measured.
    cached["measured_at"] = 0.0  # a mark: a new measurement would overwrite it
    cache_file.write_text(json.dumps(cached))
    again = network.start_worker(bob, benchmark_s=0.3)
    await wait_until(lambda: again.node_id, what="registration")
    assert again.node_id == node_id  # the stored node credential was reused
    assert again.registration.benchmark_score == cached["score"]
    assert (await _node_score(server, node_id))[0] == cached["score"]
    await network.stop_workers()
    assert json.loads(cache_file.read_text())["measured_at"] == 0.0

    # Measured on other hardware (say the CPU was replaced): measured again.
    cached["fingerprint"] = "another machine"
    cache_file.write_text(json.dumps(cached))
    network.start_worker(bob, benchmark_s=0.3)

    def measured_again() -> bool:
        return json.loads(cache_file.read_text())["measured_at"] > 0

    await wait_until(measured_again, timeout=20, what="a new measurement")
    assert json.loads(cache_file.read_text())["fingerprint"] != "another machine"
