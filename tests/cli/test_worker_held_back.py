"""A real `hivemind worker run` on a node the server holds back: its owner reads why in the
worker's output (the quarantine of tests/security/test_failing_nodes.py, seen from the CLI)."""

from __future__ import annotations

import asyncio

import pytest

from proto.hivemind.v1 import common_pb2
from tests.kit.auditor import db_file, query
from tests.kit.simulated_nodes import run_job, sim_node, submit_job
from tests.kit.stubs import make_zip, upload
from tests.kit.waiting import wait_until

pytestmark = pytest.mark.db


@pytest.fixture
def server_settings() -> dict:
    return {"quarantine_min_errors": 3, "quarantine_s": 3600}


async def test_the_owner_of_a_quarantined_worker_reads_why_in_its_output(
    server,
    user_session,
    stubs,
    register,
    cli_process,
):
    """A real `hivemind worker run` whose tasks all fail on its machine, while nodes of other
    owners do them: the worker says it is held back by the server, and why."""
    await register(server, "bob")
    alice = await user_session(server, "alice")
    failing = make_zip(
        {"hivemind.toml": b'name = "fails here"\n', "main.py": b"raise SystemExit(3)\n"}
    )
    package = await upload(stubs, alice.metadata, failing)
    job = await submit_job(stubs, alice, task_count=4, package_digest=package.digest)
    # Made now, before the worker fails: once it has, what is left (the others doing the
    # tasks) must fit in its idle window, even on a loaded machine.
    honest = [
        await sim_node(stubs, await user_session(server, name), f"{name}-box")
        for name in ("hana", "ivo")
    ]
    worker = asyncio.create_task(
        cli_process(
            "worker", "run", "--executor", "process", "--exit-when-idle", "12", "--max-tasks",
            "2", server=server,
        )
    )  # fmt: skip

    async def bob_failed_three() -> bool:
        rows = query(db_file(server), "SELECT count(*) FROM attempts WHERE state = 'failed'")
        return rows[0][0] >= 3

    await wait_until(bob_failed_three, timeout=60)
    detail = await run_job(stubs, alice, job.job_id, honest)
    assert detail.job.state == common_pb2.JOB_STATE_DONE
    result = await asyncio.wait_for(worker, 90)
    assert result.code == 0, result.stderr
    assert "held back by the server: quarantined until " in result.stdout
    assert "failed or lapsed on this node and were then done by nodes of other owners" in (
        result.stdout
    )
    assert "gets fewer tasks from the server: quarantined until" in result.stderr
