"""Jobs with rounds from the submitter's side: `hivemind job submit` sends the rounds, the
aggregate command, min_results and the round deadline (hivemind.toml, or flags on top), bad
settings submit nothing; `job watch` and `job status` show the round, its tasks and each
round's metrics; `job results` saves the job's result (the last aggregate's output).

The rounds are run by simulated nodes of two other owners over real gRPC
(tests/kit/round_nodes.py), so each aggregate is verified by two owners."""

from __future__ import annotations

import asyncio
from pathlib import Path

import grpc
import pytest

from app.services.jobs.package import JobSpec
from app.services.jobs.submission import submit_request
from proto.hivemind.v1 import auth_pb2, auth_pb2_grpc
from tests.kit.accounts import PASSWORD, UserSession
from tests.kit.round_nodes import round_node, run_until
from tests.kit.stubs import Stubs

MANIFEST = """\
[job]
name = "training"
runtime = "python-3.11"
command = ["python3", "main.py"]
tasks = 2
rounds = 2
aggregate = ["python3", "aggregate.py"]

[resources]
cores = 1
memory_mb = 128
timeout_s = 60
"""


def make_package(root: Path, manifest: str = MANIFEST) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "hivemind.toml").write_text(manifest)
    (root / "main.py").write_text("print('train')\n")
    (root / "aggregate.py").write_text("print('merge')\n")
    return root


@pytest.fixture
async def contributors(server, user_session):
    """Nodes of two owners other than the submitter, played over real gRPC."""
    async with grpc.aio.insecure_channel(server.address) as channel:
        stubs = Stubs(channel, server.address)
        owners = [await user_session(server, name) for name in ("bob", "carol")]
        sims = [await round_node(stubs, owner, f"{owner.username}-box") for owner in owners]
        yield stubs, sims


def test_the_submit_request_carries_the_rounds():
    spec = JobSpec(
        name="training",
        command=["python3", "main.py"],
        tasks=4,
        rounds=10,
        aggregate_command=["python3", "aggregate.py", "--rule", "median"],
        min_results=3,
        round_deadline_s=300,
    )
    request = submit_request(spec, "ab" * 32, [])
    assert (request.rounds, request.min_results, request.round_deadline_s) == (10, 3, 300)
    assert list(request.aggregate_command) == ["python3", "aggregate.py", "--rule", "median"]


async def test_submit_sends_the_rounds_and_flags_override_them(server, cli, register, tmp_path):
    await register(server, "alice")
    package = make_package(tmp_path / "pkg")

    plain = (await cli("job", "submit", str(package), "--json", server=server)).json()
    assert (plain["rounds"], plain["round_tasks"], plain["tasks_total"]) == (2, 2, 6)
    assert plain["aggregate_command"] == ["python3", "aggregate.py"]
    assert plain["min_results"] == 2 and plain["round_deadline_s"] == 0

    flags = (
        "--rounds", "3", "--aggregate", "python3 aggregate.py --rule 'trimmed mean'",
        "--min-results", "1", "--round-deadline", "30",
    )  # fmt: skip
    changed = await cli("job", "submit", str(package), *flags, "--json", server=server)
    assert changed.code == 0, changed.stderr
    job = changed.json()
    assert job["aggregate_command"] == ["python3", "aggregate.py", "--rule", "trimmed mean"]
    assert (job["rounds"], job["min_results"], job["round_deadline_s"]) == (3, 1, 30)
    human = await cli("job", "submit", str(package), server=server)
    assert "(2 rounds of 2 tasks and an aggregate, up to" in human.stdout


async def test_bad_round_settings_submit_nothing(server, cli, register, tmp_path):
    await register(server, "alice")
    without = make_package(tmp_path / "plain", MANIFEST.replace("aggregate =", "# aggregate ="))
    package = make_package(tmp_path / "pkg")
    cases = [
        (without, (), "rounds = 2 needs an aggregate command ([job] aggregate or --aggregate)"),
        (package, ("--min-results", "3"), "min_results (3) must not be above the 2 tasks"),
        (package, ("--rounds", "0"), "rounds must be at least 1, not 0"),
        (package, ("--aggregate", ""), "--aggregate needs a command"),
        (package, ("--rounds", "5000"), "rounds must be between 1 and 1000"),
    ]
    for folder, flags, message in cases:
        result = await cli("job", "submit", str(folder), *flags, server=server)
        assert result.code != 0, flags
        assert message in result.stderr, result.stderr
        assert len(result.stderr.strip().splitlines()) == 1
    listed = await cli("job", "list", "--json", server=server)
    assert listed.json() == {"jobs": []}


async def test_watch_status_and_results_of_a_job_with_rounds(
    server, cli, register, tmp_path, contributors
):
    stubs, sims = contributors
    await register(server, "alice")
    async with grpc.aio.insecure_channel(server.address) as channel:
        login = auth_pb2.LoginRequest(username="alice", password=PASSWORD)
        alice = UserSession(await auth_pb2_grpc.AuthServiceStub(channel).Login(login), PASSWORD)
    package = make_package(tmp_path / "pkg")
    job = (await cli("job", "submit", str(package), "--json", server=server)).json()

    watch = asyncio.create_task(cli("job", "watch", job["job_id"], "--json", server=server))
    await run_until(stubs, alice, job["job_id"], sims)
    watched = await asyncio.wait_for(watch, 30)

    assert watched.code == 0, watched.stderr
    final = watched.json()
    assert final["state"] == "done" and final["current_round"] == 1
    assert [r["state"] for r in final["round_details"]] == ["done", "done"]
    assert final["round_details"][1]["metrics"] == {"loss": 0.5, "results": 2.0, "round": 1.0}
    assert {(t["round"], t["aggregate"]) for t in final["tasks"]} == {
        (0, True), (0, False), (1, True), (1, False),
    }  # fmt: skip

    status = await cli("job", "status", job["job_id"], server=server)
    assert status.code == 0, status.stderr
    out = status.stdout
    assert "round 2 of 2: done" in out
    assert "aggregate: python3 aggregate.py (a round needs 2 of its 2 tasks accepted)" in out
    table = [line for line in out.splitlines() if "loss" in line or line.startswith("│ 1")]
    assert "loss" in table[0] and "results" in table[0]  # the metrics are columns
    assert "Round 2" in out and "aggregate" in out  # the round's tasks, its aggregate too

    result_dir = tmp_path / "results"
    fetched = await cli(
        "job", "results", job["job_id"], "--out", str(result_dir), "--json", server=server
    )
    assert fetched.code == 0, fetched.stderr
    assert fetched.json()["result_dir"] == str(result_dir / "result")
    assert (
        (result_dir / "result" / "model.txt")
        .read_text()
        .startswith(final["round_details"][1]["model_digest"])
    )
    assert sorted(p.name for p in result_dir.iterdir()) == ["result"]
    human = await cli("job", "results", job["job_id"], "--out", str(result_dir), server=server)
    assert "saved the job's result (the output of round 2 of 2's aggregate)" in human.stdout

    logs = (await cli("job", "logs", job["job_id"], server=server)).stdout
    assert "== round 2, the aggregate (done) ==" in logs and "== round 2, task 1" in logs
