"""The world the fuzz test runs in: three users (one an admin), packages, two jobs, three
nodes (one banned), live leases, every kind of credential, a pool of real ids to mix into
requests, and a valid request per RPC for the fuzzer to mutate."""

from __future__ import annotations

import hashlib
import sqlite3
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
from google.protobuf.message import Message

from proto.hivemind.v1 import (
    account_pb2,
    admin_pb2,
    artifact_pb2,
    auth_pb2,
    auth_pb2_grpc,
    common_pb2,
    job_pb2,
    job_pb2_grpc,
    node_pb2,
    node_pb2_grpc,
)
from server.accounts.signing import load_or_create_key
from server.accounts.tokens import AccessTokenSigner
from server.accounts.users import set_admin
from server.rpc.converters import encode_page_token
from tests.kit.accounts import PASSWORD
from tests.kit.stubs import make_package, sha256
from tests.security.fuzzkit import Rpc, Snapshot, snapshot

Metadata = tuple[tuple[str, str], ...]
CALL_TIMEOUT_S = 20
# Refused calls that change state on purpose: a failed login is counted (that is the
# lockout), a spent refresh token presented again revokes its family (theft detection), and a
# transfer to a name without an account counts against the sender's hourly budget.
CHANGED_BY_DESIGN = {
    "Login": {"users": {"failed_logins", "locked_until"}},
    "Transfer": {"users": {"transfer_misses", "transfer_misses_since"}},
    "Refresh": {"refresh_tokens": {"revoked_at"}},
}
# Caches of what the data already says, filled whenever first asked for: the BitTorrent
# metadata of an artifact is made from its bytes on the first GetTorrent.
DERIVED = {"artifacts": {"torrent"}}
USERS = ("alice", "bob", "root")
NODES = ("alice_node", "bob_node")
NODE_OWNERS = {"alice_node": "alice", "bob_node": "bob"}
# Whose credential each service expects (the fuzzer also tries every other one).
EXPECTED_CALLERS = {
    "hivemind.v1.NodeService": NODES,
    "hivemind.v1.AdminService": ("root",),
    "hivemind.v1.ArtifactService": (*USERS, *NODES),
}


@dataclass
class World:
    channel: grpc.Channel
    db_file: Path
    credentials: dict[str, Metadata]
    known: list[str]
    templates: dict[str, Message]
    node_ids: dict[str, str] = field(default_factory=dict)  # credential name -> node id
    # Real ids that belong to someone other than the expected caller (alice, alice_node).
    foreign_job_id: str = ""
    foreign_attempt_id: str = ""
    outcomes: Counter[tuple[str, str]] = field(default_factory=Counter)
    passwords: dict[str, str] = field(default_factory=dict)  # those changed by the fuzzer

    def _log_in_again(self, username: str) -> None:
        if username not in USERS:
            return
        # Fuzzed logins may have locked the name: lifted here, as the user would wait it out.
        with sqlite3.connect(self.db_file) as conn:
            conn.execute(
                "UPDATE users SET failed_logins = 0, locked_until = 0 WHERE username = ?",
                (username,),
            )
        session = auth_pb2_grpc.AuthServiceStub(self.channel).Login(
            auth_pb2.LoginRequest(
                username=username, password=self.passwords.get(username, PASSWORD)
            ),
            timeout=CALL_TIMEOUT_S,
        )
        self.credentials[username] = bearer(session.access_token)

    def expected_callers(self, rpc: Rpc) -> tuple[str, ...]:
        if rpc.name == "RegisterNode":
            return USERS
        return EXPECTED_CALLERS.get(rpc.service, USERS)

    def foreign_id(self, rpc: Rpc) -> str:
        if rpc.service == "hivemind.v1.NodeService":
            return self.foreign_attempt_id
        return self.foreign_job_id

    def snapshot(self, rpc: Rpc) -> Snapshot:
        return snapshot(self.db_file, {**DERIVED, **CHANGED_BY_DESIGN.get(rpc.name, {})})

    def call(self, rpc: Rpc, request: Any, metadata: Metadata) -> Any:
        serialize, parse = rpc.request_class.SerializeToString, rpc.response_class.FromString
        options = {"metadata": metadata, "timeout": CALL_TIMEOUT_S}
        if rpc.client_streaming:
            method = self.channel.stream_unary(rpc.path, serialize, parse)
            return method(iter(request), **options)
        if rpc.server_streaming:
            stream = self.channel.unary_stream(rpc.path, serialize, parse)(request, **options)
            received = []
            try:
                for item in stream:
                    received.append(item)
                    if rpc.name == "WatchJob":
                        break  # a watch stays open until its job ends; the first event will do
            finally:
                stream.cancel()
            return received
        return self.channel.unary_unary(rpc.path, serialize, parse)(request, **options)

    def after_success(self, rpc: Rpc, response: Any, who: str = "", request: Any = None) -> None:
        """Keeps the world's nodes and users usable: a rotated secret is followed, a banned
        node is replaced by a fresh registration of the same owner, and a user whose role or
        password changed (which revokes their tokens) logs in again, as their client would."""
        if rpc.name == "ChangePassword":
            self.passwords[who] = request.new_password
            self._log_in_again(who)
            return
        if rpc.name == "SetAdmin":
            self._log_in_again(response.username)
            return
        if rpc.name not in ("RotateNodeSecret", "BanNode"):
            return
        for name, node_id in list(self.node_ids.items()):
            if node_id != response.node_id or name not in NODE_OWNERS:
                continue
            if rpc.name == "RotateNodeSecret":
                self.credentials[name] = node_metadata(response)
            else:
                reply = node_pb2_grpc.NodeServiceStub(self.channel).RegisterNode(
                    node_pb2.RegisterNodeRequest(name=name, hardware=HARDWARE),
                    metadata=self.credentials[NODE_OWNERS[name]],
                )
                self.credentials[name] = node_metadata(reply)
                self.node_ids[name] = reply.node_id


def bearer(token: str) -> Metadata:
    return (("authorization", f"Bearer {token}"),)


def node_metadata(reply: node_pb2.RegisterNodeResponse) -> Metadata:
    return (("authorization", f"Node {reply.node_id}.{reply.node_secret}"),)


def _upload_package(channel: grpc.Channel, metadata: Metadata) -> str:
    upload = channel.stream_unary(
        "/hivemind.v1.ArtifactService/Upload",
        artifact_pb2.UploadChunk.SerializeToString,
        artifact_pb2.ArtifactInfo.FromString,
    )
    package = make_package()
    header = artifact_pb2.UploadHeader(
        kind=common_pb2.ARTIFACT_KIND_PACKAGE, size=len(package), sha256=sha256(package)
    )
    chunks = [artifact_pb2.UploadChunk(header=header), artifact_pb2.UploadChunk(data=package)]
    return upload(iter(chunks), metadata=metadata).digest


def _job_request(digest: str, name: str, replicas: int = 1) -> job_pb2.SubmitJobRequest:
    return job_pb2.SubmitJobRequest(
        name=name,
        runtime="python-3.11",
        command=["python3", "main.py"],
        package_digest=digest,
        task_count=3,
        resources=common_pb2.Resources(cores=1, memory_mb=64, timeout_s=60),
        replicas=replicas,
    )


HARDWARE = node_pb2.Hardware(cores=8, memory_mb=16384, disk_mb=100_000, benchmark_score=1.0)


def build_world(server: Any, channel: grpc.Channel) -> World:
    auth = auth_pb2_grpc.AuthServiceStub(channel)
    jobs = job_pb2_grpc.JobServiceStub(channel)
    nodes = node_pb2_grpc.NodeServiceStub(channel)
    sessions = {
        name: auth.Register(auth_pb2.RegisterRequest(username=name, password=PASSWORD))
        for name in USERS
    }
    server.ctx.db.transaction_sync(set_admin, "root", True)
    sessions["root"] = auth.Login(auth_pb2.LoginRequest(username="root", password=PASSWORD))
    credentials = {name: bearer(s.access_token) for name, s in sessions.items()}
    digest = _upload_package(channel, credentials["alice"])
    _upload_package(channel, credentials["bob"])
    # Alice's job takes one result per task; Bob's needs two that agree (replicas).
    submitted = {
        name: jobs.SubmitJob(
            _job_request(digest, f"{name}'s job", replicas), metadata=credentials[name]
        )
        for name, replicas in (("alice", 1), ("bob", 2))
    }
    node_ids: dict[str, str] = {}
    for name, owner in (*NODE_OWNERS.items(), ("banned_node", "bob")):
        reply = nodes.RegisterNode(
            node_pb2.RegisterNodeRequest(name=name, hardware=HARDWARE, executors=["process"]),
            metadata=credentials[owner],
        )
        credentials[name] = node_metadata(reply)
        node_ids[name] = reply.node_id
    channel.unary_unary(
        "/hivemind.v1.AdminService/BanNode",
        admin_pb2.BanNodeRequest.SerializeToString,
        admin_pb2.NodeInfo.FromString,
    )(admin_pb2.BanNodeRequest(node_id=node_ids["banned_node"]), metadata=credentials["root"])
    leased: dict[str, list[str]] = {}
    for name in NODES:
        reply = nodes.LeaseTasks(
            node_pb2.LeaseTasksRequest(free_cores=8, free_memory_mb=16384, max_tasks=2),
            metadata=credentials[name],
        )
        leased[name] = [lease.attempt_id for lease in reply.leases]
    nodes.StartAttempts(
        node_pb2.StartAttemptsRequest(attempt_ids=leased["alice_node"][:1]),
        metadata=credentials["alice_node"],
    )
    expired, _ = AccessTokenSigner(load_or_create_key(server.settings.data_dir), 60).issue(
        sessions["alice"].user.user_id, "alice", True, now=time.time() - 3600
    )
    credentials.update(
        {
            "none": (),
            "garbage": bearer("not.a-token"),
            "expired": bearer(expired),
            "wrong scheme": (("authorization", f"Basic {sessions['alice'].access_token}"),),
            "node id only": (("authorization", f"Node {node_ids['alice_node']}"),),
        }
    )
    attempts = [a for ids in leased.values() for a in ids]
    known = [
        *sessions,
        *(s.user.user_id for s in sessions.values()),
        *(s.refresh_token for s in sessions.values()),
        PASSWORD,
        "python-3.11",
        digest,
        hashlib.sha256(b"never uploaded").hexdigest(),
        *(job.job_id for job in submitted.values()),
        "job-00000000000000000000",
        *node_ids.values(),
        *attempts,
        "att-00000000000000000000",
        # Page tokens hiding cursors a careless parser trips on.
        *(encode_page_token(cursor) for cursor in ("²", "9" * 40, "-1", "1e999|x", "nan|")),
    ]
    templates = _templates(
        digest=digest,
        alice_job=submitted["alice"].job_id,
        alice_refresh=sessions["alice"].refresh_token,
        bob_refresh=sessions["bob"].refresh_token,
        attempts=attempts,
        alice_node=node_ids["alice_node"],
    )
    db_file = Path(server.settings.data_dir) / "hivemind.db"
    return World(
        channel,
        db_file,
        credentials,
        known,
        templates,
        node_ids,
        foreign_job_id=submitted["bob"].job_id,
        foreign_attempt_id=leased["bob_node"][0],
    )


def _templates(
    *,
    digest: str,
    alice_job: str,
    alice_refresh: str,
    bob_refresh: str,
    attempts: list[str],
    alice_node: str,
) -> dict[str, Message]:
    """A valid request for each RPC (by method name)."""
    page = common_pb2.PageRequest(page_size=10)
    resources = common_pb2.Resources(cores=1, memory_mb=64, timeout_s=60)
    usage = node_pb2.Usage(cpu_percent=12.5, memory_used_mb=1000, free_cores=4)
    stats = node_pb2.AttemptStats(cpu_seconds=1.5, wall_seconds=2.0, peak_memory_mb=30)
    return {
        "Register": auth_pb2.RegisterRequest(username="newcomer", password=PASSWORD),
        "Login": auth_pb2.LoginRequest(username="alice", password=PASSWORD),
        "Refresh": auth_pb2.RefreshRequest(refresh_token=bob_refresh),
        "Logout": auth_pb2.LogoutRequest(refresh_token=alice_refresh),
        "ChangePassword": auth_pb2.ChangePasswordRequest(
            old_password=PASSWORD, new_password="another good password"
        ),
        "ListHistory": account_pb2.ListHistoryRequest(page=page),
        "Transfer": account_pb2.TransferRequest(
            to_username="bob", amount_ucpt=1000, idempotency_key="k1", memo="thanks"
        ),
        "GetEarnings": account_pb2.GetEarningsRequest(days=7),
        "RegisterNode": node_pb2.RegisterNodeRequest(
            name="spare", hardware=HARDWARE, runtimes=["python-3.11"], executors=["process"]
        ),
        "UpdateNode": node_pb2.UpdateNodeRequest(
            hardware=HARDWARE, runtimes=["python-3.11"], executors=["process"]
        ),
        "Heartbeat": node_pb2.HeartbeatRequest(
            usage=usage, running_attempt_ids=attempts, seeding_digests=[digest]
        ),
        "LeaseTasks": node_pb2.LeaseTasksRequest(
            free_cores=8, free_memory_mb=16384, free_disk_mb=100_000, max_tasks=2
        ),
        "StartAttempts": node_pb2.StartAttemptsRequest(attempt_ids=attempts),
        "CompleteAttempts": node_pb2.CompleteAttemptsRequest(
            completions=[
                node_pb2.Completion(attempt_id=attempts[0], exit_code=0, log="ok", stats=stats)
            ]
        ),
        "FailAttempts": node_pb2.FailAttemptsRequest(
            failures=[node_pb2.Failure(attempt_id=attempts[-1], error="boom", stats=stats)]
        ),
        "ReturnAttempts": node_pb2.ReturnAttemptsRequest(
            attempt_ids=attempts[-1:], reason="sharing turned off"
        ),
        "RotateNodeSecret": node_pb2.RotateNodeSecretRequest(node_id=alice_node),
        "SubmitJob": _job_request(digest, "fuzzed job"),
        "ListJobs": job_pb2.ListJobsRequest(page=page),
        "GetJob": job_pb2.GetJobRequest(job_id=alice_job, include_tasks=True),
        "CancelJob": job_pb2.CancelJobRequest(job_id=alice_job),
        "WatchJob": job_pb2.WatchJobRequest(job_id=alice_job),
        "GetResults": job_pb2.GetResultsRequest(job_id=alice_job),
        "EstimateCost": job_pb2.EstimateCostRequest(
            resources=resources, tasks=10, replicas=2, priority=1.5
        ),
        "Download": artifact_pb2.DownloadRequest(digest=digest, offset=10),
        "Stat": artifact_pb2.StatRequest(digest=digest),
        "GetTorrent": artifact_pb2.GetTorrentRequest(digest=digest),
        "ListUsers": admin_pb2.ListUsersRequest(page=page),
        "Grant": admin_pb2.GrantRequest(username="alice", amount_ucpt=5000, memo="gift"),
        "SetAdmin": admin_pb2.SetAdminRequest(username="bob", is_admin=False),
        "BanNode": admin_pb2.BanNodeRequest(node_id=alice_node, reason="fuzz"),
        "AddRuntime": admin_pb2.AddRuntimeRequest(name="python-3.12", image="python:3.12"),
    }
