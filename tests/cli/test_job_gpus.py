"""`hivemind job submit --gpus` and `job status` as a submitter types them, against a real
server with no node lending a GPU: the job says why it waits, and a bad count is refused."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import Connection, select

from server.jobs.access import Caller
from server.jobs.lifecycle import cancel_job
from server.store.schema import jobs
from tests.kit.waiting import wait_until

WAITING = "waiting: no node with a free GPU is online"


def make_package(root: Path) -> Path:
    root.mkdir(parents=True)
    (root / "hivemind.toml").write_text(
        '[job]\nname = "train"\nruntime = "python-3.11"\ncommand = ["python3", "main.py"]\n'
        "tasks = 2\n\n[resources]\nmemory_mb = 128\ntimeout_s = 60\n"
    )
    (root / "main.py").write_text("print('trained')\n")
    return root


async def balance(cli, server) -> dict:
    result = await cli("account", "balance", "--json", server=server)
    assert result.code == 0, result.stderr
    return result.json()


async def test_a_gpu_job_says_why_it_waits(server, cli, register, tmp_path):
    await register(server, "alice")
    package = make_package(tmp_path / "pkg")

    submitted = await cli("job", "submit", str(package), "--gpus", "1", server=server)
    assert submitted.code == 0, submitted.stderr
    assert submitted.stdout.strip().splitlines()[-1] == WAITING
    job_id = submitted.stdout.split()[2]

    status = await cli("job", "status", job_id, server=server)
    assert WAITING in status.stdout.splitlines()
    body = (await cli("job", "status", job_id, "--json", server=server)).json()
    assert body["resources"]["gpus"] == 1
    assert body["waiting"] == "no node with a free GPU is online"

    cancelled = await cli("job", "cancel", job_id, server=server)
    assert cancelled.code == 0, cancelled.stderr
    assert (await balance(cli, server))["escrow_ucpt"] == 0


async def test_a_negative_gpu_count_is_refused_and_nothing_is_submitted(
    server, cli, register, tmp_path
):
    await register(server, "alice")
    package = make_package(tmp_path / "pkg")
    refused = await cli("job", "submit", str(package), "--gpus", "-1", server=server)
    assert refused.code != 0
    assert refused.stderr.strip().splitlines()[-1].endswith("gpus must be at least 0, not -1")
    listed = (await cli("job", "list", "--json", server=server)).json()["jobs"]
    assert listed == []


async def test_watching_a_gpu_job_says_why_it_waits(server, cli, register, tmp_path):
    await register(server, "alice")
    package = make_package(tmp_path / "pkg")
    submitted = await cli("job", "submit", str(package), "--gpus", "1", server=server)
    assert submitted.code == 0, submitted.stderr
    job_id = submitted.stdout.split()[2]
    watching = asyncio.create_task(cli("job", "watch", job_id, server=server))
    # Once it follows the job's events, the job is cancelled (from the server: the CLI runs
    # one command at a time), which ends the watch.
    await wait_until(lambda: server.ctx.events.watcher_count(job_id) > 0, 20, "the watch")
    owner = await server.ctx.db.run(owner_of, job_id)
    await cancel_job(server.ctx, Caller(user_id=owner), job_id)
    watched = await watching
    assert watched.stdout.strip().splitlines()[0] == WAITING
    assert watched.code == 1 and "was cancelled" in watched.stderr


def owner_of(conn: Connection, job_id: str) -> str:
    return conn.execute(select(jobs.c.owner_id).where(jobs.c.id == job_id)).scalar_one()
