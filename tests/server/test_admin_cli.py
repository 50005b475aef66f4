"""`hivemind-server` as an admin uses it: real subprocesses on a real data dir, also while
the server runs."""

from __future__ import annotations

import grpc

from proto.hivemind.v1 import account_pb2, account_pb2_grpc, auth_pb2, auth_pb2_grpc
from tests.kit.admin import admin_fails, admin_json

PASSWORD = "admin-password-1"


def test_create_user_grant_and_check_ledger(tmp_path):
    data = tmp_path / "data"
    created = admin_json(data, "create-user", "Root", "--admin", "--password-stdin", stdin=PASSWORD)
    assert created["user"]["username"] == "Root" and created["user"]["is_admin"]
    # A new account's grant is starter credit; CPT comes from an admin's grant (or work).
    assert created["balance"] == {"ucpt": 0, "cpt": "0"}
    assert created["starter"] == {"ucpt": 100_000_000, "cpt": "100"}

    granted = admin_json(data, "grant", "root", "2.5", "--memo", "welcome")
    assert granted["amount"] == {"ucpt": 2_500_000, "cpt": "2.5"}
    assert granted["balance"]["ucpt"] == 2_500_000

    listed = admin_json(data, "list-users")
    assert [(u["username"], u["balance"]["cpt"]) for u in listed["users"]] == [("Root", "2.5")]

    report = admin_json(data, "check-ledger")
    assert report["ok"] and report["problems"] == []
    assert report["starter_credit"] == {"ucpt": 100_000_000, "cpt": "100"}
    assert (
        report["total_granted"]
        == report["total_in_accounts"]
        == {
            "ucpt": 102_500_000,
            "cpt": "102.5",
        }
    )


def test_bad_input_is_one_line_and_changes_nothing(tmp_path):
    data = tmp_path / "data"
    missing = admin_fails(data, "grant", "root", "1")
    assert "no HiveMind data" in missing
    assert not data.exists()  # a typo in --data-dir creates nothing

    admin_json(data, "create-user", "root", "--password-stdin", stdin=PASSWORD)
    assert "taken" in admin_fails(data, "create-user", "ROOT", "--password-stdin", stdin=PASSWORD)
    assert "at least 8" in admin_fails(data, "create-user", "bob", "--password-stdin", stdin="x")
    assert "no password" in admin_fails(data, "create-user", "bob")
    assert "6 decimal places" in admin_fails(data, "grant", "root", "0.0000001")
    assert "negative" in admin_fails(data, "grant", "root", "-1")
    assert "not an amount" in admin_fails(data, "grant", "root", "lots")
    assert "no user named 'ghost'" in admin_fails(data, "grant", "ghost", "1")
    assert "image reference" in admin_fails(data, "runtime", "add", "py", "--image", "")

    users = admin_json(data, "list-users")["users"]
    assert [(u["username"], u["balance"]["ucpt"]) for u in users] == [("root", 0)]
    assert admin_json(data, "check-ledger")["total_granted"]["ucpt"] == 100_000_000
    runtimes = admin_json(data, "runtime", "list")["runtimes"]
    assert [r["name"] for r in runtimes] == ["python-3.11"]


def test_runtimes_and_roles(tmp_path):
    data = tmp_path / "data"
    admin_json(data, "create-user", "alice", "--password-stdin", stdin=PASSWORD)
    added = admin_json(
        data, "runtime", "add", "python-3.12", "--image", "hivemind/python:3.12",
        "--image-id", "sha256:" + "ab" * 32,
    )  # fmt: skip
    assert added["runtime"]["image_id"] == "sha256:" + "ab" * 32
    names = [r["name"] for r in admin_json(data, "runtime", "list")["runtimes"]]
    assert names == ["python-3.11", "python-3.12"]
    assert admin_json(data, "set-admin", "alice")["user"]["is_admin"] is True
    assert admin_json(data, "set-admin", "alice", "--off")["user"]["is_admin"] is False
    assert admin_json(data, "list-nodes") == {"nodes": []}


async def test_admin_commands_work_while_the_server_runs(server_process):
    proc = await server_process()
    data = proc.data_dir
    admin_json(data, "create-user", "carol", "--password-stdin", stdin=PASSWORD)
    admin_json(data, "grant", "carol", "0.000001")
    async with grpc.aio.insecure_channel(proc.address) as channel:
        session = await auth_pb2_grpc.AuthServiceStub(channel).Login(
            auth_pb2.LoginRequest(username="carol", password=PASSWORD)
        )
        balance = await account_pb2_grpc.AccountServiceStub(channel).GetBalance(
            account_pb2.GetBalanceRequest(),
            metadata=(("authorization", f"Bearer {session.access_token}"),),
        )
    assert (balance.balance_ucpt, balance.starter_ucpt) == (1, 100_000_000)
    assert "HiveMind server listening on 127.0.0.1:" in proc.log()
    assert await proc.stop() == 0  # SIGTERM is a graceful stop


async def test_state_survives_sigkill(server_process, user_session):
    proc = await server_process()
    await user_session(proc, "dora")
    await proc.kill()
    await proc.start()
    async with grpc.aio.insecure_channel(proc.address) as channel:
        session = await auth_pb2_grpc.AuthServiceStub(channel).Login(
            auth_pb2.LoginRequest(username="dora", password="correct horse battery")
        )
    assert session.user.username == "dora"
    assert admin_json(proc.data_dir, "check-ledger")["ok"]
