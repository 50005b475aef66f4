"""Soak: honest work on an open network while hostile accounts do all they can at once.

A real server subprocess on a fresh data dir (SQLite) on loopback. Every simulated machine
dials from a loopback address of its own (tests/kit/loopback_networks.py), so the server
sees each as a network of its own, as it would strangers' machines.

Honest side (this process): a submitter keeps --inflight small jobs of --tasks tasks running
(every other one replicated, replicas=2) and four contributors, each of its own owner on its
own network, compute the right results. They are given the history they would have on a
network that has run for days (registered four days ago, 30 results that agreed with
independent nodes), written into the database before the load starts: a fresh network has
no established node, and the open-network rules rightly accept no quorum without one.

Hostile side (a process of its own, for --seconds, all at once):
- a node that fails every task it leases;
- two sybil accounts on one /24 returning the same garbage;
- three fresh accounts farming trust on a cheap replicated job of their own, returning
  garbage on everyone else's;
- a submit/cancel flooder (jobs of 20,000 tasks) and four floods of cheap calls;
- deeply nested and oversized `hivemind.toml` packages, submitted;
- an upload flood past the storage quota (the quota is 16 MiB here, so it is reached);
- a peer-list poisoner (heartbeats claiming other people's artifacts at a victim address).
Then a second fresh server gets the same honest load without attackers.

Each honest job holds --budget times its worst-case cost in escrow (default 1: what
`hivemind job submit` holds); spot checks of unreplicated work are paid from that escrow.

Prints ONE JSON line: honest jobs completed/submitted, garbage_accepted (garbage results of
hostile nodes accepted on anyone's job, must be 0) and garbage_accepted_on_honest_jobs,
honest_trust_lost (honest nodes whose trust fell, 0), ledger_audit (the server's `admin
check-ledger`), the honest submitter's call latency and job latency p50/p99 as [under
attack, without attackers], and what each attack achieved.

--farm runs the sign-up farm instead: accounts registered as fast as the server allows from
distinct addresses of one /24, each submitting jobs with what sign-up gave it, while honest
paid work runs. The grant, the sign-up limit and its scope (per address or per network) and
the price of a core-second are read from the server's behaviour (balances after sign-up,
refusals and their retry-after, what jobs paid), not from its settings; the JSON line gives
what the farm got in the run and `farm_core_hours_per_day`, that extrapolated to a day.

Run: .venv/bin/python bench/soak.py [--seconds 60] [--budget 1]   (a longer soak: 300)
     .venv/bin/python bench/soak.py --farm [--seconds 60]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from argparse import SUPPRESS
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import benchkit
import grpc

from proto.hivemind.v1 import account_pb2, auth_pb2, auth_pb2_grpc, common_pb2, job_pb2, node_pb2
from tests.kit.loopback_networks import Network, channel_from, close_all
from tests.kit.simulated_nodes import Heartbeats, correct_output, establish, wrong_output
from tests.kit.stubs import (
    Node,
    Stubs,
    job_request,
    make_package,
    make_zip,
    register_node,
    sha256,
    upload,
)

PASSWORD = "soak password 1"
ENDED = (common_pb2.JOB_STATE_DONE, common_pb2.JOB_STATE_FAILED, common_pb2.JOB_STATE_CANCELLED)
VICTIM = "10.9.8.7:6881"  # where the poisoner would like every worker to connect
SETTINGS = {"user_quota_bytes": 16 * 1024**2}  # small enough for the upload flood to reach
AioRpcError = grpc.aio.AioRpcError


@dataclass
class Owner:
    name: str
    user_id: str
    metadata: tuple
    stubs: Stubs  # its own channel, from its own address


@dataclass
class Machine:
    node: Node
    stubs: Stubs

    @property
    def node_id(self) -> str:
        return self.node.node_id


async def patiently(call: Any) -> Any:
    """`call()`, again after a pause while the server is UNAVAILABLE (a loaded machine)."""
    for _ in range(5):
        try:
            return await call()
        except AioRpcError as error:
            if error.code() != grpc.StatusCode.UNAVAILABLE:
                raise
            await asyncio.sleep(2.0)
    return await call()


async def sign_up(address: str, name: str, source: str) -> Owner:
    """Registers `name` from the loopback address `source`."""
    channel = await channel_from(address, source)
    request = auth_pb2.RegisterRequest(username=name, password=PASSWORD)
    session = await patiently(lambda: auth_pb2_grpc.AuthServiceStub(channel).Register(request))
    metadata = (("authorization", f"Bearer {session.access_token}"),)
    return Owner(name, session.user.user_id, metadata, Stubs(channel, address))


async def machine(address: str, owner: Owner, network: Network) -> Machine:
    stubs = Stubs(await channel_from(address, network.machine()), address)
    node = await patiently(lambda: register_node(stubs, owner.metadata, name=f"{owner.name}-box"))
    return Machine(node, stubs)


async def lease(box: Machine, max_tasks: int = 2) -> list:
    reply = await box.stubs.nodes.LeaseTasks(
        node_pb2.LeaseTasksRequest(
            free_cores=4, free_memory_mb=16384, free_disk_mb=100_000, max_tasks=max_tasks
        ),
        metadata=box.node.metadata,
    )
    return list(reply.leases)


async def run_leases(box: Machine, leases: list, output: Any) -> list[str]:
    """Uploads `output(lease)` for each lease and completes them (a comparison: equivalent);
    the attempt ids whose result the server took."""
    completions = []
    for item in leases:
        stats = node_pb2.AttemptStats(wall_seconds=1.0, cpu_seconds=1.0)
        if item.HasField("comparison"):
            completions.append(node_pb2.Completion(attempt_id=item.attempt_id, stats=stats))
            continue
        data = output(item)
        await upload(box.stubs, box.node.metadata, data, common_pb2.ARTIFACT_KIND_RESULT)
        completions.append(
            node_pb2.Completion(
                attempt_id=item.attempt_id,
                result_digest=sha256(data),
                result_size=len(data),
                stats=stats,
            )
        )
    reply = await box.stubs.nodes.CompleteAttempts(
        node_pb2.CompleteAttemptsRequest(completions=completions), metadata=box.node.metadata
    )
    return [ack.attempt_id for ack in reply.acks if ack.accepted]


def honest_output(item: Any) -> bytes:
    return correct_output(item.task_index)


# ----- the honest side -----


@dataclass
class HonestStats:
    calls_ms: list[float] = field(default_factory=list)
    jobs_ms: list[float] = field(default_factory=list)
    job_ids: list[str] = field(default_factory=list)
    submitted: int = 0
    completed: int = 0
    failed: int = 0
    refused: dict[str, int] = field(default_factory=dict)
    tasks_run: int = 0


async def timed(stats: HonestStats, call: Any) -> Any:
    began = time.perf_counter()
    try:
        return await call
    finally:
        stats.calls_ms.append((time.perf_counter() - began) * 1000)


async def honest_world(address: str, data_dir: Path) -> tuple[Owner, list[Machine], Heartbeats]:
    """The honest submitter (with 100,000 CPT bought) and four established contributors, each
    of its own owner on its own network, online."""
    submitter = await sign_up(address, "honest_submitter", Network().machine())
    boxes = []
    for i in range(4):
        network = Network()
        owner = await sign_up(address, f"honest_{i}", network.machine())
        boxes.append(await machine(address, owner, network))
    # The history they would have after days on the network (see the module's docstring).
    from server.store.db import Database

    db = Database.for_data_dir(data_dir)
    try:
        establish(SimpleNamespace(ctx=SimpleNamespace(db=db)), *boxes)
    finally:
        db.close()
    # The submitter pays with CPT an admin granted (bought), not with a sign-up grant.
    subprocess.run(
        benchkit.server_command(
            "admin", "grant", "honest_submitter", "100000", "--data-dir", str(data_dir)
        ),
        cwd=benchkit.REPO_ROOT,
        check=True,
        capture_output=True,
    )
    beats = Heartbeats(every_s=2.0)
    beats.start(*boxes)
    return submitter, boxes, beats


async def contribute(box: Machine, stop: asyncio.Event, stats: HonestStats) -> None:
    while not stop.is_set():
        try:
            leases = await lease(box)
            if leases:
                stats.tasks_run += len(await run_leases(box, leases, honest_output))
                continue
        except AioRpcError:
            pass
        await asyncio.sleep(0.2)


async def worst_case(owner: Owner, package: str, tasks: int, replicas: int) -> int:
    """The worst-case cost of such a job, as the server computes it (it says so when asked
    to hold less)."""
    request = job_request(package, task_count=tasks, replicas=replicas, max_cost_ucpt=1)
    try:
        await owner.stubs.jobs.SubmitJob(request, metadata=owner.metadata)
    except AioRpcError as error:
        found = re.search(r"\((\d+) ucpt\) is needed", error.details() or "")
        if found:
            return int(found.group(1))
    raise SystemExit("the server did not say the worst case of a job held below it")


async def submit_loop(
    owner: Owner,
    seconds: float,
    drain: float,
    inflight: int,
    tasks: int,
    stats: HonestStats,
    budget: float = 1.0,
) -> None:
    """Keeps `inflight` jobs running for `seconds`, then waits up to `drain` s for them. Each
    job holds `budget` times its worst-case cost in escrow (1: the worst case, as `hivemind
    job submit` does by default)."""
    jobs = owner.stubs.jobs
    package = await timed(stats, upload(owner.stubs, owner.metadata, make_package()))
    worst = {r: await worst_case(owner, package.digest, tasks, r) for r in (1, 2)}
    active: dict[str, float] = {}
    began = time.monotonic()
    n = 0
    while True:
        now = time.monotonic()
        while now < began + seconds and len(active) < inflight:
            replicas = 2 - n % 2
            request = job_request(
                package.digest,
                name=f"honest {n}",
                task_count=tasks,
                replicas=replicas,
                max_cost_ucpt=round(worst[replicas] * budget),
            )
            n += 1
            try:
                job = await timed(stats, jobs.SubmitJob(request, metadata=owner.metadata))
            except AioRpcError as error:
                code = error.code().name
                stats.refused[code] = stats.refused.get(code, 0) + 1
                break
            active[job.job_id] = time.monotonic()
            stats.job_ids.append(job.job_id)
            stats.submitted += 1
        if (not active and now >= began + seconds) or now > began + seconds + drain:
            return
        await asyncio.sleep(0.5)
        for job_id in list(active):
            found = await timed(
                stats, jobs.GetJob(job_pb2.GetJobRequest(job_id=job_id), metadata=owner.metadata)
            )
            if found.job.state in ENDED:
                stats.jobs_ms.append((time.monotonic() - active.pop(job_id)) * 1000)
                if found.job.state == common_pb2.JOB_STATE_DONE:
                    stats.completed += 1
                else:
                    stats.failed += 1
        await timed(
            stats, owner.stubs.account.GetBalance(account_pb2.GetBalanceRequest(), **_md(owner))
        )


def _md(owner: Owner) -> dict:
    return {"metadata": owner.metadata}


async def wrong_results(owner: Owner, job_ids: list[str]) -> int:
    """Tasks of the honest jobs that ended done with a result other than the right one."""
    wrong = 0
    for job_id in job_ids:
        found = await owner.stubs.jobs.GetJob(
            job_pb2.GetJobRequest(job_id=job_id, include_tasks=True), metadata=owner.metadata
        )
        wrong += sum(
            1
            for task in found.tasks
            if task.state == common_pb2.TASK_STATE_DONE
            and task.result_digest != sha256(correct_output(task.index))
        )
    return wrong


def honest_summary(stats: HonestStats) -> dict:
    return {
        "jobs_submitted": stats.submitted,
        "jobs_completed": stats.completed,
        "jobs_failed": stats.failed,
        "submits_refused": stats.refused,
        "tasks_run": stats.tasks_run,
        "calls": len(stats.calls_ms),
        "call_p50_ms": benchkit.percentile(stats.calls_ms, 0.50),
        "call_p99_ms": benchkit.percentile(stats.calls_ms, 0.99),
        "job_p50_ms": benchkit.percentile(stats.jobs_ms, 0.50),
        "job_p99_ms": benchkit.percentile(stats.jobs_ms, 0.99),
    }


def trust_lost(data_dir: Path, boxes: list[Machine]) -> int:
    """Honest nodes that lost trust: a result judged wrong, or fewer consecutive valid
    results than the 30 they started with."""
    lost = 0
    for box in boxes:
        rows = benchkit.query(
            data_dir,
            "SELECT consecutive_valid, invalid_results, spot_checks_failed FROM node_trust"
            " WHERE node_id = ?",
            box.node_id,
        )
        valid, invalid, failed = rows[0] if rows else (0, 0, 0)
        lost += int(valid < 30 or invalid > 0 or failed > 0)
    return lost


# ----- the hostile side (its own process) -----


class Tally(dict):
    def add(self, key: str, amount: int = 1) -> None:
        self[key] = self.get(key, 0) + amount


def refused(tally: Tally, prefix: str, error: AioRpcError) -> None:
    code = error.code().name.lower()
    tally.add(f"{prefix}_refused_{code}")
    if error.code() in (grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN):
        tally[f"{prefix}_{code}_said"] = (error.details() or "")[:200]  # what went wrong


_hostile_networks = itertools.count(1)


def hostile_network() -> Network:
    """A /24 of 127.200.0.0/16: never one of the honest side's (another process numbers
    those from 127.1.1.0/24 on)."""
    return Network(prefix=f"127.200.{next(_hostile_networks)}")


async def attack(address: str, seconds: float) -> dict:
    stop_at = time.monotonic() + seconds
    report: dict[str, Any] = {"garbage_attempts": [], "hostile_nodes": []}
    garbage: list[str] = report["garbage_attempts"]

    def going() -> bool:
        return time.monotonic() < stop_at

    async def failing_node() -> Tally:
        tally = Tally()
        network = hostile_network()
        box = await machine(address, await sign_up(address, "failer", network.machine()), network)
        report["hostile_nodes"].append(box.node_id)
        report["failer"] = box.node_id
        while going():
            try:
                leases = await lease(box, 4)
                tally.add("leased", len(leases))
                if leases:
                    await box.stubs.nodes.FailAttempts(
                        node_pb2.FailAttemptsRequest(
                            failures=[
                                node_pb2.Failure(attempt_id=x.attempt_id, error="boom", exit_code=1)
                                for x in leases
                            ]
                        ),
                        metadata=box.node.metadata,
                    )
                    tally.add("failed", len(leases))
                    continue
            except AioRpcError as error:
                refused(tally, "lease", error)
            await asyncio.sleep(0.2)
        return tally

    async def garbage_node(box: Machine, own_jobs: set[str], tally: Tally) -> None:
        """Right results on `own_jobs` (farming trust), garbage on everyone else's."""

        def output(item: Any) -> bytes:
            if item.job_id in own_jobs:
                return correct_output(item.task_index)
            return wrong_output(item.task_index)

        while going():
            try:
                leases = await lease(box)
                if leases:
                    taken = set(await run_leases(box, leases, output))
                    for item in leases:
                        if item.job_id in own_jobs:
                            tally.add("farm_results")
                        elif not item.HasField("comparison"):
                            tally.add("garbage_sent")
                            if item.attempt_id in taken:
                                garbage.append(item.attempt_id)
                    continue
            except AioRpcError as error:
                refused(tally, "lease", error)
            await asyncio.sleep(0.2)

    async def sybils() -> Tally:
        tally = Tally()
        home = hostile_network()
        boxes = [
            await machine(address, await sign_up(address, f"sybil_{i}", home.machine()), home)
            for i in range(2)
        ]
        report["hostile_nodes"] += [box.node_id for box in boxes]
        await asyncio.gather(*(garbage_node(box, set(), tally) for box in boxes))
        return tally

    async def trust_farm() -> Tally:
        tally = Tally()
        owners, boxes = [], []
        for i in range(3):
            network = hostile_network()
            owners.append(await sign_up(address, f"farmer_{i}", network.machine()))
            boxes.append(await machine(address, owners[-1], network))
        report["hostile_nodes"] += [box.node_id for box in boxes]
        package = await upload(owners[0].stubs, owners[0].metadata, make_package())
        own_jobs: set[str] = set()
        count = 60
        while count and not own_jobs:
            request = job_request(
                package.digest,
                name="farm",
                task_count=count,
                replicas=3,
                resources=common_pb2.Resources(cores=1, memory_mb=16, timeout_s=2),
            )
            try:
                job = await owners[0].stubs.jobs.SubmitJob(request, metadata=owners[0].metadata)
                own_jobs.add(job.job_id)
                tally.add("farm_tasks", count)
            except AioRpcError as error:
                refused(tally, "farm_submit", error)
                count //= 2
        await asyncio.gather(*(garbage_node(box, own_jobs, tally) for box in boxes))
        return tally

    async def flooder() -> Tally:
        tally = Tally()
        owner = await sign_up(address, "flooder", hostile_network().machine())
        package = await upload(owner.stubs, owner.metadata, make_package())
        # Cheap tasks (1 s at worst), as many per job as the sign-up balance holds in escrow
        # (halved at each refusal): what stops the loop is then the fee for the tasks
        # beyond the free ones, never refunded.
        size = [20_000]

        async def submit_cancel() -> None:
            while going():
                request = job_request(
                    package.digest,
                    name="flood",
                    task_count=size[0],
                    resources=common_pb2.Resources(cores=1, memory_mb=16, timeout_s=1),
                )
                try:
                    job = await owner.stubs.jobs.SubmitJob(request, metadata=owner.metadata)
                    tally.add("jobs_submitted")
                    tally.add("tasks_created", job.tasks_total)
                    await owner.stubs.jobs.CancelJob(
                        job_pb2.CancelJobRequest(job_id=job.job_id), metadata=owner.metadata
                    )
                    tally.add("jobs_cancelled")
                except AioRpcError as error:
                    refused(tally, "submit", error)
                    if error.code() == grpc.StatusCode.FAILED_PRECONDITION:
                        size[0] = max(size[0] // 2, 100)
                    await asyncio.sleep(0.05)

        async def flood() -> None:
            n = 0
            while going():
                try:
                    if n % 2:
                        await owner.stubs.account.GetBalance(
                            account_pb2.GetBalanceRequest(), metadata=owner.metadata
                        )
                    else:
                        await owner.stubs.jobs.ListJobs(
                            job_pb2.ListJobsRequest(), metadata=owner.metadata
                        )
                    tally.add("flood_calls")
                except AioRpcError as error:
                    refused(tally, "flood", error)
                n += 1

        await asyncio.gather(submit_cancel(), *(flood() for _ in range(4)))
        return tally

    async def manifests() -> Tally:
        tally = Tally()
        owner = await sign_up(address, "manifester", hostile_network().machine())
        n = 0
        while going():
            n += 1
            if n % 2:
                manifest = f'# {n}\nname = "x"\na = {"[" * 20000}{"]" * 20000}\n'
            else:
                manifest = f'# {n}\nname = "x"\ndescription = "{"a" * 4 * 1024**2}"\n'
            kind = "nested" if n % 2 else "oversized"
            data = make_zip({"hivemind.toml": manifest.encode(), "main.py": b"print(1)\n"})
            try:
                package = await upload(owner.stubs, owner.metadata, data)
                await owner.stubs.jobs.SubmitJob(
                    job_request(package.digest, name="manifest"), metadata=owner.metadata
                )
                tally.add(f"{kind}_accepted")
            except AioRpcError as error:
                refused(tally, kind, error)
            await asyncio.sleep(0.2)
        return tally

    async def upload_flood() -> Tally:
        tally = Tally()
        owner = await sign_up(address, "uploader", hostile_network().machine())
        report["uploader"] = owner.user_id

        async def one() -> None:
            while going():
                data = os.urandom(256 * 1024)
                try:
                    await upload(owner.stubs, owner.metadata, data, common_pb2.ARTIFACT_KIND_INPUT)
                    tally.add("bytes_stored", len(data))
                except AioRpcError as error:
                    refused(tally, "upload", error)
                    await asyncio.sleep(0.1)

        await asyncio.gather(*(one() for _ in range(4)))
        return tally

    async def poisoner() -> Tally:
        tally = Tally()
        network = hostile_network()
        box = await machine(address, await sign_up(address, "poisoner", network.machine()), network)
        report["poisoner"] = box.node_id
        claims = [sha256(make_package()), "ab" * 32]  # the honest package, and made up
        while going():
            try:
                await box.stubs.nodes.Heartbeat(
                    node_pb2.HeartbeatRequest(seeding_digests=claims, bt_endpoint=VICTIM),
                    metadata=box.node.metadata,
                )
                tally.add("claims")
            except AioRpcError as error:
                refused(tally, "heartbeat", error)
            await asyncio.sleep(0.2)
        return tally

    names = ["failing_node", "sybils", "trust_farm", "flooder", "manifests", "uploads"]
    names.append("poisoner")
    tallies = await asyncio.gather(
        failing_node(), sybils(), trust_farm(), flooder(), manifests(), upload_flood(), poisoner()
    )
    report["attacks"] = dict(zip(names, tallies, strict=True))
    await close_all()
    return report


def hostile_outcome(data_dir: Path, report: dict) -> dict:
    """What the attacks got: garbage results accepted and paid, the uploader's stored bytes,
    the poisoner's listed seeds, the failing node's quarantine."""
    accepted = paid = 0
    ids = report["garbage_attempts"]
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        marks = ",".join("?" * len(chunk))
        accepted += benchkit.query(
            data_dir, f"SELECT count(*) FROM tasks WHERE accepted_attempt_id IN ({marks})", *chunk
        )[0][0]
        paid += benchkit.query(
            data_dir,
            f"SELECT coalesce(sum(p.amount_ucpt), 0) - coalesce(sum(c.taken_ucpt), 0)"
            f" FROM payouts p LEFT JOIN clawbacks c ON c.attempt_id = p.attempt_id"
            f" WHERE p.attempt_id IN ({marks})",
            *chunk,
        )[0][0]
    stored = benchkit.query(
        data_dir,
        "SELECT coalesce(sum(size), 0) FROM artifact_owners WHERE principal_id = ?",
        report.get("uploader", ""),
    )[0][0]
    seeds = benchkit.query(
        data_dir, "SELECT count(*) FROM node_seeds WHERE node_id = ?", report.get("poisoner", "")
    )[0][0]
    failer = benchkit.query(
        data_dir,
        "SELECT quarantined_until > ?, lease_quota FROM node_trust WHERE node_id = ?",
        time.time(),
        report.get("failer", ""),
    )
    quarantined, quota = failer[0] if failer else (0, 0)
    marks = ",".join("?" * len(report["hostile_nodes"])) or "''"
    trusted = benchkit.query(
        data_dir,
        f"SELECT count(*) FROM node_trust WHERE consecutive_valid >= 3 AND node_id IN ({marks})",
        *report["hostile_nodes"],
    )[0][0]
    return {
        "garbage_accepted": accepted,
        "garbage_paid_ucpt": paid,
        "uploader_bytes_kept": stored,
        "quota_bytes": SETTINGS["user_quota_bytes"],
        "poisoner_seeds_listed": seeds,
        "failing_node_quarantined": bool(quarantined),
        "failing_node_lease_quota": quota,
        "hostile_nodes_trusted_at_end": trusted,
    }


@contextlib.contextmanager
def data_dir_for(args: argparse.Namespace, prefix: str) -> Iterator[Path]:
    """A fresh data dir for one server: removed afterwards unless --keep (then named)."""
    if args.keep:
        path = Path(tempfile.mkdtemp(prefix=prefix))
        print(f"data dir kept: {path}", file=sys.stderr)
        yield path
        return
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        yield Path(tmp)


# ----- one phase: a fresh server, the honest load, with or without attackers -----


async def phase(args: argparse.Namespace, hostile: bool) -> dict:
    with data_dir_for(args, "hivemind-soak-") as data_dir:
        server, address = benchkit.start_server(data_dir, SETTINGS)
        try:
            submitter, boxes, beats = await honest_world(address, data_dir)
            attacker = None
            if hostile:
                attacker = await asyncio.create_subprocess_exec(
                    sys.executable,
                    __file__,
                    "--role",
                    "attack",
                    "--address",
                    address,
                    "--seconds",
                    str(args.seconds),
                    stdout=subprocess.PIPE,
                )
                await asyncio.sleep(2.0)  # let the attack get going
            stats = HonestStats()
            stop = asyncio.Event()
            workers = [asyncio.create_task(contribute(b, stop, stats)) for b in boxes]
            await submit_loop(
                submitter, args.seconds, args.drain, args.inflight, args.tasks, stats, args.budget
            )
            stop.set()
            await asyncio.gather(*workers)
            await beats.stop()
            result = honest_summary(stats)
            result["wrong_results_accepted"] = await wrong_results(submitter, stats.job_ids)
            result["honest_trust_lost"] = trust_lost(data_dir, boxes)
            if attacker is not None:
                out, _ = await attacker.communicate()
                report = json.loads(out.decode().strip().splitlines()[-1])
                result["hostile"] = hostile_outcome(data_dir, report)
                result["attacks"] = report["attacks"]
            await close_all()
        finally:
            benchkit.stop_server(server)
        result["ledger_audit"] = benchkit.check_ledger(data_dir)
        return result


async def soak(args: argparse.Namespace) -> dict:
    clock = benchkit.Clock()
    clock.say(f"under attack for {args.seconds:.0f} s")
    attacked = await phase(args, hostile=True)
    clock.say(f"without attackers for {args.seconds:.0f} s")
    alone = await phase(args, hostile=False)
    clock.say("done")
    hostile = attacked.pop("hostile")
    return {
        "bench": "soak",
        "seconds": args.seconds,
        "budget": args.budget,
        "honest_jobs_completed": attacked["jobs_completed"],
        "honest_jobs_submitted": attacked["jobs_submitted"],
        # Every garbage result the hostile nodes got accepted, on anyone's job (the honest
        # nodes return only right results, so the honest jobs' wrong ones are among them).
        "garbage_accepted": max(hostile["garbage_accepted"], attacked["wrong_results_accepted"]),
        "garbage_accepted_on_honest_jobs": attacked["wrong_results_accepted"],
        "honest_trust_lost": attacked["honest_trust_lost"],
        "ledger_audit": "ok" if attacked["ledger_audit"]["ok"] else attacked["ledger_audit"],
        "honest_call_p50_ms": [attacked["call_p50_ms"], alone["call_p50_ms"]],
        "honest_call_p99_ms": [attacked["call_p99_ms"], alone["call_p99_ms"]],
        "honest_job_p50_ms": [attacked["job_p50_ms"], alone["job_p50_ms"]],
        "honest_job_p99_ms": [attacked["job_p99_ms"], alone["job_p99_ms"]],
        "latency_pairs": "[under attack, without attackers]",
        "under_attack": attacked,
        "without_attackers": alone,
        "hostile": hostile,
    }


# ----- the sign-up farm -----


def balance_of(reply: Any) -> int:
    """Everything a new account may spend: its balance, and any starter credit the server
    reports beside it."""
    total = reply.balance_ucpt
    for descriptor, value in reply.ListFields():
        if "starter" in descriptor.name and isinstance(value, int):
            total += value
    return total


async def farm(args: argparse.Namespace) -> dict:
    clock = benchkit.Clock()
    with data_dir_for(args, "hivemind-farm-") as data_dir:
        server, address = benchkit.start_server(data_dir, {})
        try:
            submitter, boxes, beats = await honest_world(address, data_dir)
            stats = HonestStats()
            stop = asyncio.Event()
            workers = [asyncio.create_task(contribute(b, stop, stats)) for b in boxes]
            honest = asyncio.create_task(
                submit_loop(
                    submitter,
                    args.seconds,
                    args.drain,
                    args.inflight,
                    args.tasks,
                    stats,
                    args.budget,
                )
            )
            found = await sign_up_farm(address, args)
            clock.say(f"farm: {found['accounts']} accounts, {found['farm_jobs']} jobs")
            await honest
            stop.set()
            await asyncio.gather(*workers)
            await beats.stop()
            await close_all()
        finally:
            benchkit.stop_server(server)
        ledger = benchkit.check_ledger(data_dir)
        farm_ids = found.pop("user_ids")
        marks = ",".join("?" * len(farm_ids)) or "''"
        farm_core_ms, farm_paid, farm_tasks = benchkit.query(
            data_dir,
            "SELECT coalesce(sum(p.core_ms), 0), coalesce(sum(p.amount_ucpt), 0), count(*)"
            f" FROM payouts p JOIN jobs j ON j.id = p.job_id WHERE j.owner_id IN ({marks})",
            *farm_ids,
        )[0]
        all_core_ms, all_paid = benchkit.query(
            data_dir, "SELECT coalesce(sum(core_ms), 0), coalesce(sum(amount_ucpt), 0) FROM payouts"
        )[0]
    ucpt_per_core_s = all_paid * 1000 / all_core_ms if all_core_ms else 0.0
    per_day = found["signups_per_network_per_day"]
    core_hours = per_day * found["grant_ucpt"] / ucpt_per_core_s / 3600 if ucpt_per_core_s else None
    return {
        "bench": "soak-farm",
        "seconds": args.seconds,
        **found,
        "ucpt_per_core_s_paid": round(ucpt_per_core_s, 1),
        "farm_tasks_run": farm_tasks,
        "farm_core_s_measured": round(farm_core_ms / 1000, 1),
        "farm_paid_ucpt": farm_paid,
        "farm_share_of_core_s": round(farm_core_ms / all_core_ms, 3) if all_core_ms else 0.0,
        "farm_core_hours_per_day": round(core_hours, 1) if core_hours is not None else None,
        "honest": honest_summary(stats),
        "ledger_audit": "ok" if ledger["ok"] else ledger,
    }


async def sign_up_farm(address: str, args: argparse.Namespace) -> dict:
    """Signs up from one host of a /24 after another, each until refused; every account
    submits the biggest job its sign-up balance pays for. What the limits turned out to be."""
    home = Network()
    per_host: list[int] = []
    retry_after: list[float] = []
    grants: list[int] = []
    user_ids: list[str] = []
    jobs = 0
    submits_refused: dict[str, int] = {}
    deadline = time.monotonic() + args.seconds * 0.8
    for h in range(args.farm_hosts):
        channel = await channel_from(address, home.machine())
        auth = auth_pb2_grpc.AuthServiceStub(channel)
        stubs = Stubs(channel, address)
        first_at = time.time()
        count = 0
        while time.monotonic() < deadline:
            try:
                session = await auth.Register(
                    auth_pb2.RegisterRequest(username=f"farm_{h}_{count}", password=PASSWORD)
                )
            except AioRpcError as error:
                if error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED:
                    wait = re.search(r"(\d+) s", error.details() or "")
                    if wait:  # the window: the wait plus how long this host has been at it
                        retry_after.append(float(wait.group(1)) + time.time() - first_at)
                break
            count += 1
            metadata = (("authorization", f"Bearer {session.access_token}"),)
            user_ids.append(session.user.user_id)
            reply = await stubs.account.GetBalance(
                account_pb2.GetBalanceRequest(), metadata=metadata
            )
            grants.append(balance_of(reply))
            package = (await upload(stubs, metadata, make_package())).digest  # its own copy
            tasks = 64
            while tasks:
                request = job_request(
                    package,
                    name="farm",
                    task_count=tasks,
                    resources=common_pb2.Resources(cores=1, memory_mb=16, timeout_s=2),
                )
                try:
                    await stubs.jobs.SubmitJob(request, metadata=metadata)
                    jobs += 1
                    break
                except AioRpcError as error:
                    code = error.code().name
                    submits_refused[code] = submits_refused.get(code, 0) + 1
                    tasks //= 2
        per_host.append(count)
        if time.monotonic() >= deadline:
            break
    refused_at_once = sum(1 for n in per_host[1:] if n == 0)
    scope = "network" if per_host and refused_at_once == len(per_host) - 1 else "address"
    cap = per_host[0] if per_host else 0
    window_s = min(retry_after) if retry_after else 3600.0
    hosts = 1 if scope == "network" else 254
    grant = sorted(grants)[len(grants) // 2] if grants else 0
    return {
        "accounts": len(user_ids),
        "signups_per_host": per_host,
        "limit_counted_per": scope,
        "limit_per_window": cap,
        "limit_window_s": round(window_s),
        "limit_reached": bool(retry_after),
        "signups_per_network_per_day": round(cap * hosts * 86400 / window_s),
        "grant_ucpt": grant,
        "farm_jobs": jobs,
        "farm_submits_refused": submits_refused,
        "user_ids": user_ids,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="how long the load runs")
    parser.add_argument("--drain", type=float, default=60.0, help="s to wait for honest jobs")
    parser.add_argument("--inflight", type=int, default=3, help="honest jobs running at once")
    parser.add_argument("--tasks", type=int, default=4, help="tasks per honest job")
    parser.add_argument(
        "--budget",
        type=float,
        default=1.0,
        help="escrow of each honest job, x its worst case (1: the default of `job submit`)",
    )
    parser.add_argument("--farm", action="store_true", help="the sign-up farm instead")
    parser.add_argument("--farm-hosts", type=int, default=3, help="addresses of the /24 used")
    parser.add_argument("--keep", action="store_true", help="keep the data dirs to look at")
    parser.add_argument("--role", choices=("bench", "attack"), default="bench", help=SUPPRESS)
    parser.add_argument("--address", default="", help=SUPPRESS)
    args = parser.parse_args()
    if args.role == "attack":
        print(json.dumps(asyncio.run(attack(args.address, args.seconds))))
        return
    print(json.dumps(asyncio.run(farm(args) if args.farm else soak(args))))


if __name__ == "__main__":
    main()
