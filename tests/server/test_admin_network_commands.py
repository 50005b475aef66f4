"""The admin commands for what the dashboard's admin pages show and do (nodes, bans, jobs,
stats, clawback shortfalls) on the data dir of a server that runs meanwhile: real
`hivemind-server admin` subprocesses, and the same entry point called in this process where
a test only varies the arguments (a subprocess costs seconds on a loaded machine)."""

from __future__ import annotations

import asyncio
import functools
import io
import json
import random

import grpc
import pytest

from proto.hivemind.v1 import account_pb2, node_pb2
from server.cli.main import main
from tests.kit.admin import admin_fails, admin_json
from tests.kit.simulated_nodes import run_job, sim_node, submit_job, work
from tests.kit.stubs import lease


@pytest.fixture
def server_settings() -> dict:
    # A node is trusted after two agreeing results: its unreplicated results are then paid
    # at once, before anyone checked them, which is what a ban takes back.
    return {"trust_threshold": 2}


async def admin(server, *args: str) -> dict:
    """A real subprocess, as an admin runs it."""
    return await asyncio.to_thread(admin_json, server.settings.data_dir, *args)


def admin_here(capsys, data_dir, *args: str) -> tuple[int, str, str]:
    """`hivemind-server admin ARGS` through its entry point in this process."""
    capsys.readouterr()
    code = main(["admin", *args, "--data-dir", str(data_dir)])
    out, err = capsys.readouterr()
    return code, out, err


async def admin_json_here(capsys, server, *args: str) -> dict:
    code, out, err = await asyncio.to_thread(
        admin_here, capsys, server.settings.data_dir, *args, "--json"
    )
    assert code == 0, err
    return json.loads(out)


@pytest.mark.db
async def test_ban_list_stats_and_shortfalls_on_a_running_server(
    server, stubs, user_session, capsys
):
    server.ctx.spot_check_rng = random.Random(7)  # the same run every time
    alice = await user_session(server, "alice")
    mallory = await sim_node(stubs, await user_session(server, "mallory"), "mallory-box")
    honest = [
        await sim_node(stubs, await user_session(server, name), f"{name}-box")
        for name in ("hana", "ivo")
    ]
    replicated = await submit_job(stubs, alice, name="checked twice", task_count=4, replicas=2)
    await run_job(stubs, alice, replicated.job_id, [mallory, *honest])
    job = await submit_job(stubs, alice, name="long job", task_count=30)
    for _ in range(6):
        await work(stubs, mallory, wall_seconds=30.0)
    # mallory moves what the node earned elsewhere before anyone looks.
    held = await stubs.account.GetBalance(
        account_pb2.GetBalanceRequest(), metadata=mallory.owner.metadata
    )
    await stubs.account.Transfer(
        account_pb2.TransferRequest(to_username="hana", amount_ucpt=held.balance_ucpt),
        metadata=mallory.owner.metadata,
    )

    nodes = {n["name"]: n for n in (await admin(server, "list-nodes"))["nodes"]}
    assert set(nodes) == {"mallory-box", "hana-box", "ivo-box"}
    assert nodes["mallory-box"]["owner"] == "mallory" and not nodes["mallory-box"]["banned"]
    assert nodes["mallory-box"]["valid_results"] >= 2 and nodes["mallory-box"]["error_rate"] == 0

    banned = await admin(server, "ban-node", mallory.node_id, "--reason", "caught copying")
    assert banned["node"]["banned"] and banned["node"]["ban_reason"] == "caught copying"
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await lease(stubs, mallory.node)
    assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert "caught copying" in refused.value.details()

    short = await admin(server, "shortfalls")
    assert short["shortfalls"] and {s["username"] for s in short["shortfalls"]} == {"mallory"}
    assert {s["job_id"] for s in short["shortfalls"]} == {job.job_id}
    assert all(s["shortfall"]["ucpt"] == s["paid"]["ucpt"] > 0 for s in short["shortfalls"])
    assert short["total"]["ucpt"] == sum(s["shortfall"]["ucpt"] for s in short["shortfalls"])

    stats = await admin(server, "stats")
    assert stats["users"] == 4 and stats["nodes"]["banned"] == 1
    assert stats["jobs"] == {"done": 1, "running": 1}
    assert stats["queue_depth"] == stats["tasks"]["pending"] > 0
    assert stats["clawback_shortfall"] == short["total"]
    assert stats["total_granted"] == stats["total_in_accounts"]

    jobs = (await admin(server, "list-jobs"))["jobs"]
    assert [(j["name"], j["owner"], j["state"]) for j in jobs] == [
        ("long job", "alice", "running"),
        ("checked twice", "alice", "done"),
    ]
    here = functools.partial(admin_json_here, capsys, server)
    assert (await here("list-jobs", "--user", "mallory"))["jobs"] == []
    assert [j["name"] for j in (await here("list-jobs", "--state", "done"))["jobs"]] == [
        "checked twice"
    ]

    assert (await here("unban-node", mallory.node_id))["node"]["banned"] is False
    server.ctx.node_credentials.forget(mallory.node_id)  # as the cache's 15 s would
    await stubs.nodes.Heartbeat(node_pb2.HeartbeatRequest(), metadata=mallory.node.metadata)
    assert await lease(stubs, mallory.node)  # it works again
    assert (await here("check-ledger"))["ok"]


def test_the_commands_read_as_text_and_refuse_bad_input(tmp_path, capsys, monkeypatch):
    data = tmp_path / "data"
    monkeypatch.setattr("sys.stdin", io.StringIO("a password 1\n"))
    assert admin_here(capsys, data, "create-user", "root", "--password-stdin")[0] == 0
    assert "no node node-nope" in admin_fails(data, "ban-node", "node-nope")  # one real run
    for args, said in (
        (("unban-node", "node-nope"), "no node node-nope"),
        (("list-jobs", "--limit", "0"), "at least 1"),
        (("ban-node", "node-nope", "--reason", "x" * 501), "reason too long"),
    ):
        code, out, err = admin_here(capsys, data, *args)
        assert (code, out) == (1, "") and said in err and len(err.strip().splitlines()) == 1
    code, out, _ = admin_here(capsys, data, "stats")
    assert code == 0 and "users:          1" in out and "nodes:          none" in out
    code, out, _ = admin_here(capsys, data, "shortfalls")
    assert out.strip().endswith("0 shortfalls, 0 CPT in all")
