"""examples/montecarlo end to end (a job whose honest results differ: π from a fresh random
seed, with replicas = 2 and a compare command) through real worker agents of three owners and
a real server, with every check of the outcome: each pair of replicas compared by the third
owner's worker, every task accepted, every micro-CPT accounted for. Run with the process
executor (test_fuzzy_jobs.py) and in the Docker runtime image (test_worker_docker.py)."""

from __future__ import annotations

import json
import math
import sqlite3
import uuid
from contextlib import closing

from app.services.client.transfer import upload_file
from app.services.jobs.package import build_package_zip, load_package
from app.services.jobs.submission import submit_request
from proto.hivemind.v1 import common_pb2, job_pb2
from tests.kit.network import download_results, signup_grant, wait_for_job
from tests.kit.paths import EXAMPLES

MONTECARLO = EXAMPLES / "montecarlo"


async def submit_package(person, folder) -> job_pb2.Job:
    """Submits an example folder as `hivemind job submit` would, its hivemind.toml included."""
    spec = load_package(folder).spec
    archive = build_package_zip(folder, person.home / f"pkg-{uuid.uuid4().hex}.zip")
    package = await upload_file(person.session.artifacts, archive, common_pb2.ARTIFACT_KIND_PACKAGE)
    return await person.session.jobs.SubmitJob(submit_request(spec, package.digest))


async def run_montecarlo(server, network, tmp_path, executor_factory=None) -> None:
    alice = await network.person(server.address, "alice")
    contributors = [await network.person(server.address, n) for n in ("bob", "carol", "dave")]
    grant = await signup_grant(alice)
    workers = []
    for person in contributors:
        person.settings.update_contributor(cores=1)
        executor = executor_factory() if executor_factory else None
        workers.append(network.start_worker(person, executor=executor))

    job = await submit_package(alice, MONTECARLO)
    assert list(job.compare_command) == ["python3", "compare.py"] and job.replicas == 2
    job = await wait_for_job(alice, job.job_id, timeout=180)
    assert job.state == common_pb2.JOB_STATE_DONE, job
    assert job.tasks_done == 4

    await download_results(alice, job.job_id, tmp_path / "results")
    estimates = [
        json.loads((tmp_path / "results" / str(i) / "result.json").read_text())["estimate"]
        for i in range(4)
    ]
    assert all(abs(estimate - math.pi) < 0.02 for estimate in estimates), estimates

    db = server.settings.data_dir / "hivemind.db"
    with closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as conn:
        verdicts = conn.execute(
            "SELECT c.verdict, a.node_id, a.exit_code FROM result_comparisons c "
            "JOIN attempts a ON a.id = c.attempt_id WHERE c.state = 'decided'"
        ).fetchall()
        producers = dict(
            conn.execute(
                "SELECT task_id, group_concat(node_id) FROM attempts "
                "WHERE comparison_id IS NULL AND state = 'done' GROUP BY task_id"
            ).fetchall()
        )
        judged = conn.execute(
            "SELECT a.task_id, a.node_id FROM attempts a WHERE a.comparison_id IS NOT NULL "
            "AND a.state = 'done'"
        ).fetchall()
        statuses = {s for (s,) in conn.execute("SELECT status FROM result_checks")}
    # Honest runs differ in bytes, so every task needed a comparison, all "same" (exit 0),
    # each made by the one worker that ran neither replica.
    assert len(verdicts) >= 4 and {v for v, _, _ in verdicts} == {"same"}
    assert {code for _, _, code in verdicts} == {0}
    for task_id, node_id in judged:
        assert node_id not in producers[task_id].split(",")
    assert statuses == {"valid"}

    balances = [await p.balance() for p in (alice, *contributors)]
    earned = sum(b.balance_ucpt for b in balances[1:]) - 3 * grant
    assert earned == job.cost_ucpt > 0
    assert balances[0].balance_ucpt == grant - job.cost_ucpt and balances[0].escrow_ucpt == 0
    assert job.refunded_ucpt == job.max_cost_ucpt - job.cost_ucpt
    assert sum(w.tasks_done for w in workers) >= 8  # 8 replicas (comparisons count too)
