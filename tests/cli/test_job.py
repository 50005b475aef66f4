"""`hivemind job ...` against a real server. A worker node is played over real gRPC with the
node credential (lease, upload a result, complete), so results, logs and watch see a job end."""

from __future__ import annotations

import asyncio
import io
import zipfile
from pathlib import Path

from app.services.client.credentials import CredentialStore
from app.services.client.session import ClientSession
from app.services.client.transfer import upload_file
from app.services.settings import SettingsStore
from proto.hivemind.v1 import common_pb2, job_pb2, node_pb2

MANIFEST = """\
[job]
name = "squares"
runtime = "python-3.11"
command = ["python", "main.py"]
tasks = 3

[resources]
cores = 1
memory_mb = 128
timeout_s = 60
"""

STATUS_KEYS = {
    "job_id", "state", "tasks_total", "tasks_done", "tasks_failed", "cost_ucpt", "cost_cpt",
    "max_cost_ucpt", "max_cost_cpt", "tasks",
}  # fmt: skip


def make_package(root: Path, manifest: str = MANIFEST) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "hivemind.toml").write_text(manifest)
    (root / "main.py").write_text("import os\nprint(int(os.environ['HIVEMIND_TASK_INDEX'])**2)\n")
    return root


async def balance(cli, server) -> dict:
    result = await cli("account", "balance", "--json", server=server)
    assert result.code == 0, result.stderr
    return result.json()


async def test_submit_status_list_cancel(server, cli, register, tmp_path):
    await register(server, "alice")
    grant = server.settings.signup_grant_ucpt
    package = make_package(tmp_path / "pkg")

    submitted = await cli("job", "submit", str(package), "--json", server=server)

    assert submitted.code == 0, submitted.stderr
    job = submitted.json()
    assert job["state"] == "pending" and job["tasks_total"] == 3 and job["name"] == "squares"
    # Worst case: 3 tasks x 1 core x 60 s at 10 CPT per core-hour = 0.5 CPT, x 1.5 x 1.3 with
    # the performance and stability bonuses at their maximum.
    assert job["max_cost_ucpt"] == 975_000 and job["max_cost_cpt"] == "0.975"
    held = await balance(cli, server)
    # Paid from starter credit (a new account holds no CPT), and held apart as such.
    assert held["starter_ucpt"] == grant - 975_000 and held["escrow_ucpt"] == 975_000
    assert held["starter_escrow_ucpt"] == 975_000 and held["balance_ucpt"] == 0

    status = await cli("job", "status", job["job_id"], "--json", server=server)
    assert status.code == 0, status.stderr
    body = status.json()
    assert set(body) >= STATUS_KEYS
    assert (body["job_id"], body["state"], body["tasks_done"], body["cost_ucpt"]) == (
        job["job_id"], "pending", 0, 0,
    )  # fmt: skip
    assert [t["index"] for t in body["tasks"]] == [0, 1, 2]
    assert {t["state"] for t in body["tasks"]} == {"pending"}
    assert all({"index", "state", "attempts", "error"} <= set(t) for t in body["tasks"])

    listed = (await cli("job", "list", "--json", server=server)).json()["jobs"]
    assert [j["job_id"] for j in listed] == [job["job_id"]]

    cancelled = await cli("job", "cancel", job["job_id"], "--json", server=server)
    assert cancelled.code == 0, cancelled.stderr
    assert cancelled.json()["state"] == "cancelled"
    after = await balance(cli, server)
    assert after["starter_ucpt"] == grant and after["escrow_ucpt"] == 0


async def test_submit_one_task_per_input_and_flags(server, cli, register, tmp_path):
    await register(server, "alice")
    package = make_package(tmp_path / "pkg")
    inputs = []
    for name in ("a.txt", "b.txt"):
        inputs.append(tmp_path / name)
        inputs[-1].write_text(f"input {name}\n")

    submitted = await cli(
        "job", "submit", str(package), "--input", *map(str, inputs), "--cores", "2",
        "--timeout", "30", "--name", "renamed", "--max-cost", "1.25", "--json", server=server,
    )  # fmt: skip

    assert submitted.code == 0, submitted.stderr
    job = submitted.json()
    assert job["tasks_total"] == 2 and job["name"] == "renamed"
    assert job["resources"]["cores"] == 2 and job["resources"]["timeout_s"] == 30
    assert job["max_cost_ucpt"] == 1_250_000
    status = (await cli("job", "status", job["job_id"], "--json", server=server)).json()
    assert sorted(t["input_name"] for t in status["tasks"]) == ["a.txt", "b.txt"]


async def test_short_balance_submits_nothing(server, cli, register, tmp_path):
    await register(server, "alice")
    before = await balance(cli, server)
    package = make_package(tmp_path / "pkg")

    result = await cli(
        "job", "submit", str(package), "--max-cost", "100000", "--json", server=server
    )

    assert result.code == 1
    assert result.json()["code"] == "FAILED_PRECONDITION"
    assert len(result.stderr.strip().splitlines()) == 1
    assert await balance(cli, server) == before
    assert (await cli("job", "list", "--json", server=server)).json() == {"jobs": []}


async def test_unknown_runtime_and_foreign_job(server, cli, register, tmp_path):
    await register(server, "bob")
    package = make_package(tmp_path / "pkg")
    bobs = (await cli("job", "submit", str(package), "--json", server=server)).json()
    await register(server, "alice")

    result = await cli("job", "submit", str(package), "--runtime", "cobol-85", server=server)
    assert result.code == 1
    assert "cobol-85" in result.stderr and "python-3.11" in result.stderr

    foreign = await cli("job", "status", bobs["job_id"], server=server)
    assert foreign.code == 1
    assert foreign.stderr.startswith("error: ") and bobs["job_id"] in foreign.stderr


def result_zip(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return buffer.getvalue()


async def play_node(
    server, home: Path, tmp_path: Path, fail_index: int | None = None, files: dict | None = None
) -> None:
    """Registers a node for the logged-in user and runs every leased task by hand."""
    async with ClientSession(SettingsStore(home), CredentialStore(home), server.address) as user:
        registered = await user.nodes.RegisterNode(
            node_pb2.RegisterNodeRequest(
                name="test-node",
                hardware=node_pb2.Hardware(cores=4, memory_mb=4096, disk_mb=10_000),
                executors=["process"],
            )
        )
        node = user.as_node(registered.node_id, registered.node_secret)
        leases = await node.nodes.LeaseTasks(
            node_pb2.LeaseTasksRequest(
                free_cores=4, free_memory_mb=4096, free_disk_mb=10_000, max_tasks=10
            )
        )
        assert leases.leases
        ids = [lease.attempt_id for lease in leases.leases]
        await node.nodes.StartAttempts(node_pb2.StartAttemptsRequest(attempt_ids=ids))
        completions, failures = [], []
        for lease in leases.leases:
            if lease.task_index == fail_index:
                failures.append(
                    node_pb2.Failure(
                        attempt_id=lease.attempt_id, error="exit code 3", exit_code=3, log="boom"
                    )
                )
                continue
            path = tmp_path / f"result-{lease.task_index}.zip"
            path.write_bytes(result_zip(files or {"answer.txt": f"{lease.task_index**2}\n"}))
            info = await upload_file(node.artifacts, path, common_pb2.ARTIFACT_KIND_RESULT)
            completions.append(
                node_pb2.Completion(
                    attempt_id=lease.attempt_id,
                    result_digest=info.digest,
                    result_size=info.size,
                    log=f"task {lease.task_index} ran\n",
                    stats=node_pb2.AttemptStats(cpu_seconds=1, wall_seconds=1),
                )
            )
        if completions:
            await node.nodes.CompleteAttempts(
                node_pb2.CompleteAttemptsRequest(completions=completions)
            )
        if failures:
            await node.nodes.FailAttempts(node_pb2.FailAttemptsRequest(failures=failures))


async def test_watch_results_and_logs_of_a_finished_job(
    server, cli, register, tmp_path, hivemind_home
):
    await register(server, "alice")
    package = make_package(tmp_path / "pkg")
    job = (await cli("job", "submit", str(package), "--json", server=server)).json()

    watch = asyncio.create_task(cli("job", "watch", job["job_id"], "--json", server=server))
    await play_node(server, hivemind_home, tmp_path)
    watched = await asyncio.wait_for(watch, 30)

    assert watched.code == 0, watched.stderr
    final = watched.json()
    assert final["state"] == "done" and final["tasks_done"] == 3
    assert final["cost_ucpt"] > 0

    out = tmp_path / "results"
    fetched = await cli("job", "results", job["job_id"], "--out", str(out), "--json", server=server)
    assert fetched.code == 0, fetched.stderr
    summary = fetched.json()
    assert summary["tasks_saved"] == 3 and summary["state"] == "done"
    for index in range(3):
        assert (out / str(index) / "answer.txt").read_text() == f"{index**2}\n"
        assert (out / str(index) / "log.txt").read_text() == f"task {index} ran\n"
    assert not (out / ".hivemind-downloads").exists()

    # Fetching again replaces the folders with the same content.
    again = await cli("job", "results", job["job_id"], "--out", str(out), server=server)
    assert again.code == 0, again.stderr
    assert (out / "2" / "answer.txt").read_text() == "4\n"

    logs = await cli("job", "logs", job["job_id"], "--task", "1", "--json", server=server)
    assert logs.json()["tasks"] == [
        {"index": 1, "state": "done", "log": "task 1 ran\n", "error": ""}
    ]
    missing = await cli("job", "logs", job["job_id"], "--task", "7", server=server)
    assert missing.code == 1 and "has no task 7" in missing.stderr


async def test_submit_wait_reports_a_failed_job(server, cli, register, tmp_path, hivemind_home):
    await register(server, "alice")
    package = make_package(tmp_path / "pkg", MANIFEST.replace("tasks = 3", "tasks = 2"))

    submit = asyncio.create_task(
        cli("job", "submit", str(package), "--max-attempts", "1", "--wait", "--json", server=server)
    )
    # The job exists once the CLI has submitted it; then a node fails task 1.
    async with ClientSession(
        SettingsStore(hivemind_home), CredentialStore(hivemind_home), server.address
    ) as session:
        for _ in range(100):
            if (await session.jobs.ListJobs(job_pb2.ListJobsRequest())).jobs:
                break
            await asyncio.sleep(0.1)
    await play_node(server, hivemind_home, tmp_path, fail_index=1)
    result = await asyncio.wait_for(submit, 30)

    assert result.code == 1
    final = result.json()
    assert final["state"] == "failed" and final["tasks_failed"] == 1
    failed = next(t for t in final["tasks"] if t["index"] == 1)
    assert failed["error"].startswith("exit code 3")
    assert result.stderr.strip() == f"error: job {final['job_id']} failed: 1 of 2 tasks failed"

    out = tmp_path / "out"
    fetched = await cli("job", "results", final["job_id"], "--out", str(out), server=server)
    assert fetched.code == 0, fetched.stderr
    assert (out / "0" / "answer.txt").read_text() == "0\n"
    assert (out / "1" / "error.txt").read_text() == failed["error"] + "\n"
    assert (out / "1" / "log.txt").read_text() == "boom"


async def test_job_commands_need_login(server, cli, tmp_path):
    result = await cli("job", "list", server=server)
    assert result.code == 4
    assert "run `hivemind account login`" in result.stderr


async def test_a_result_escaping_its_folder_is_not_unpacked(
    server, cli, register, tmp_path, hivemind_home
):
    await register(server, "alice")
    package = make_package(tmp_path / "pkg", MANIFEST.replace("tasks = 3", "tasks = 1"))
    job = (await cli("job", "submit", str(package), "--json", server=server)).json()
    await play_node(server, hivemind_home, tmp_path, files={"../../escaped.txt": "gotcha"})

    out = tmp_path / "deep" / "results"
    fetched = await cli("job", "results", job["job_id"], "--out", str(out), server=server)

    assert fetched.code == 1
    assert "warning: task 0: result not unpacked" in fetched.stderr
    assert fetched.stderr.strip().splitlines()[-1] == (
        "error: 1 task result(s) could not be unpacked safely"
    )
    assert not (tmp_path / "escaped.txt").exists()
    assert not (tmp_path / "deep" / "escaped.txt").exists()
    assert not (out / "0").exists()
