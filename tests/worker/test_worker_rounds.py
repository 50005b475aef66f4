"""Jobs with rounds through real worker agents (process executor) of three owners and a real
server: each task sees its round's model, the aggregate every accepted output of the round,
its output becomes the next model, and examples/wordcount merges on the network.

The same mounts in Docker (read-only) are in tests/docker/test_docker_rounds.py."""

from __future__ import annotations

import collections
import json
import re
import textwrap
import uuid
from pathlib import Path

import pytest

from app.services.client.transfer import upload_file
from app.services.jobs.package import build_package_zip, load_package
from app.services.jobs.results import download_results
from app.services.jobs.submission import submit_request
from proto.hivemind.v1 import common_pb2, job_pb2
from tests.kit.network import job_detail, signup_grant, wait_for_job
from tests.kit.paths import EXAMPLES

# Round r's task i adds (i + 1) to the model's number; the aggregate sums the round's
# numbers: after rounds of n tasks the model is a closed form the test computes.
MAIN_PY = """\
import json, os, pathlib

model = os.environ["HIVEMIND_MODEL"]
index = int(os.environ["HIVEMIND_TASK_INDEX"])
start = json.loads(pathlib.Path(model, "model.json").read_text())["value"] if model else 0
out = pathlib.Path(os.environ["HIVEMIND_OUTPUT"])
report = {
    "value": start + index + 1,
    "round": int(os.environ["HIVEMIND_ROUND"]),
    "rounds": int(os.environ["HIVEMIND_ROUNDS"]),
    "results": os.environ["HIVEMIND_RESULTS"],
}
(out / "update.json").write_text(json.dumps(report, sort_keys=True))
print("task", index, "of round", report["round"], "from", start)
"""
AGGREGATE_PY = """\
import json, os, pathlib

model = os.environ["HIVEMIND_MODEL"]
results = pathlib.Path(os.environ["HIVEMIND_RESULTS"])
folders = sorted(p.name for p in results.iterdir())
updates = [json.loads((results / name / "update.json").read_text()) for name in folders]
value = sum(update["value"] for update in updates)
out = pathlib.Path(os.environ["HIVEMIND_OUTPUT"])
(out / "model.json").write_text(json.dumps({"value": value, "from": folders}, sort_keys=True))
metrics = {"value": value, "round": int(os.environ["HIVEMIND_ROUND"])}
(out / "metrics.json").write_text(json.dumps(metrics, sort_keys=True))
print("aggregate of", folders, "index", os.environ["HIVEMIND_TASK_INDEX"], "model", bool(model))
"""


@pytest.fixture
def server_settings():
    # Three owners' workers on this one machine: networks cannot be told apart here (a
    # private network's setting); tests/security proves the rule from distinct addresses.
    return {"heartbeat_interval_s": 1, "distinct_networks": False}


def rounds_package(folder: Path, rounds: int, tasks: int) -> Path:
    folder.mkdir(parents=True)
    (folder / "hivemind.toml").write_text(
        textwrap.dedent(
            f"""\
            [job]
            name = "sums"
            command = ["python3", "main.py"]
            tasks = {tasks}
            rounds = {rounds}
            aggregate = ["python3", "aggregate.py"]

            [resources]
            memory_mb = 128
            timeout_s = 30
            """
        )
    )
    (folder / "main.py").write_text(MAIN_PY)
    (folder / "aggregate.py").write_text(AGGREGATE_PY)
    return folder


async def submit_package(person, folder: Path, inputs: list[Path] = ()) -> job_pb2.Job:
    """As `hivemind job submit` does: every setting of the package's hivemind.toml."""
    spec = load_package(folder).spec
    archive = build_package_zip(folder, person.home / f"pkg-{uuid.uuid4().hex}.zip")
    session = person.session
    package = await upload_file(session.artifacts, archive, common_pb2.ARTIFACT_KIND_PACKAGE)
    task_inputs = []
    for path in inputs:
        info = await upload_file(session.artifacts, path, common_pb2.ARTIFACT_KIND_INPUT)
        task_inputs.append(job_pb2.TaskInput(digest=info.digest, name=path.name))
    return await session.jobs.SubmitJob(submit_request(spec, package.digest, task_inputs))


async def three_owners(server, network) -> list:
    contributors = [await network.person(server.address, n) for n in ("bob", "carol", "dave")]
    for person in contributors:
        person.settings.update_contributor(cores=1)
        network.start_worker(person)
    return contributors


async def test_each_round_starts_from_the_model_the_last_aggregate_made(server, network, tmp_path):
    alice = await network.person(server.address, "alice")
    contributors = await three_owners(server, network)
    grant = await signup_grant(alice)

    job = await submit_package(alice, rounds_package(tmp_path / "sums", rounds=3, tasks=2))
    assert (job.rounds, job.round_tasks, job.tasks_total) == (3, 2, 9)
    job = await wait_for_job(alice, job.job_id, timeout=120)

    assert job.state == common_pb2.JOB_STATE_DONE, job
    detail = await job_detail(alice, job.job_id)
    # Round 1: 1 + 2 = 3. Round 2: (3 + 1) + (3 + 2) = 9. Round 3: 10 + 11 = 21.
    assert [dict(r.metrics) for r in detail.rounds] == [
        {"value": 3.0, "round": 0.0},
        {"value": 9.0, "round": 1.0},
        {"value": 21.0, "round": 2.0},
    ]
    saved = await download_results(alice.session, job.job_id, tmp_path / "out")
    model = json.loads((tmp_path / "out" / "result" / "model.json").read_text())
    assert model == {"value": 21, "from": ["0", "1"]}
    assert [task.aggregate for task in saved.tasks] == [True]
    log = (tmp_path / "out" / "result" / "log.txt").read_text()
    assert "aggregate of ['0', '1'] index -1 model True" in log
    # Every round's task saw its round, and no HIVEMIND_RESULTS (that is the aggregate's).
    results = await alice.session.jobs.GetResults(job_pb2.GetResultsRequest(job_id=job.job_id))
    assert "task 1 of round 2 from 9" in next(r.log for r in results.results if r.index == 1)
    # What alice paid is what the three owners earned; the rest came back.
    balances = [(await person.balance()).balance_ucpt - grant for person in contributors]
    assert sum(balances) == job.cost_ucpt > 0
    assert (await alice.balance()).balance_ucpt == grant - job.cost_ucpt


async def test_wordcount_merges_on_the_network(server, network, tmp_path):
    alice = await network.person(server.address, "alice")
    await three_owners(server, network)
    inputs = sorted((EXAMPLES / "wordcount" / "inputs").glob("*.txt"))

    job = await submit_package(alice, EXAMPLES / "wordcount", inputs)
    assert list(job.aggregate_command) == ["python3", "merge.py"] and job.rounds == 1
    job = await wait_for_job(alice, job.job_id, timeout=120)

    assert job.state == common_pb2.JOB_STATE_DONE, job
    await download_results(alice.session, job.job_id, tmp_path / "out")
    merged = json.loads((tmp_path / "out" / "result" / "counts.json").read_text())
    expected = collections.Counter()
    for path in inputs:
        expected.update(re.findall(r"\w+", path.read_text().lower()))
    assert merged["counts"] == dict(expected)
    assert merged["words"] == sum(expected.values())
    assert merged["counts"]["the"] == 8
    detail = await job_detail(alice, job.job_id)
    assert dict(detail.rounds[0].metrics) == {
        "words": float(sum(expected.values())),
        "distinct": float(len(expected)),
    }
    [aggregate] = [task for task in detail.tasks if task.aggregate]
    assert aggregate.verification == "verified"  # two owners' merges agreed
