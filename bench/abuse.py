"""One abusive account against an honest user: the honest user's latency with and without it.

A real server subprocess on a fresh data dir (SQLite). An honest user calls GetBalance and
ListJobs in turn, for --seconds alone (the baseline), then for --seconds while an abusive
account, in a process of its own, does its worst: --loops threads each submit a job of
--tasks tasks and cancel it as soon as it is accepted, again and again, and --flooders
threads call GetBalance and ListJobs as fast as the server answers. Both accounts get a huge
sign-up grant, so the fee for creating tasks never stops the abuser here: what is measured
is what batching, compaction, the per-account budgets and the fair database queue leave of
the attack. --defenses off turns off what can be turned off (batches, budgets, the fee), to
compare.

Prints ONE JSON line: the honest user's calls, p50 and p99 latency (ms) alone and under
abuse, and what the abuser achieved (jobs submitted and cancelled, tasks created, calls
refused, fees paid) and the task rows left in the database.
Run: .venv/bin/python bench/abuse.py [--seconds 20] [--tasks 100000] [--defenses off]
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from pathlib import Path

import benchkit
import grpc

from proto.hivemind.v1 import (
    account_pb2,
    account_pb2_grpc,
    artifact_pb2,
    artifact_pb2_grpc,
    auth_pb2,
    auth_pb2_grpc,
    common_pb2,
    job_pb2,
    job_pb2_grpc,
)

PASSWORD = "bench password 1"
GRANT_UCPT = 10**13  # 10 million CPT each: money never stops the abuser here


def server_settings(defenses: bool) -> dict[str, object]:
    settings: dict[str, object] = {
        "signup_grant_ucpt": GRANT_UCPT,
        "max_active_jobs_per_user": 1000,
    }
    if not defenses:
        settings |= {"submit_batch_tasks": 10_000_000, "rpc_rate_per_s": 0, "task_fee_ucpt": 0}
    return settings


def register(channel: grpc.Channel, username: str) -> str:
    session = auth_pb2_grpc.AuthServiceStub(channel).Register(
        auth_pb2.RegisterRequest(username=username, password=PASSWORD)
    )
    return session.access_token


def upload_package(channel: grpc.Channel, metadata: tuple) -> str:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("hivemind.toml", 'name = "abuse"\n')
        archive.writestr("main.py", "print('hi')\n")
    data = buffer.getvalue()
    header = artifact_pb2.UploadHeader(
        kind=common_pb2.ARTIFACT_KIND_PACKAGE,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        name="abuse.zip",
    )
    chunks = iter([artifact_pb2.UploadChunk(header=header), artifact_pb2.UploadChunk(data=data)])
    return artifact_pb2_grpc.ArtifactServiceStub(channel).Upload(chunks, metadata=metadata).digest


def honest_run(address: str, token: str, seconds: float) -> dict:
    """GetBalance and ListJobs in turn for `seconds`; latencies in ms."""
    metadata = (("authorization", f"Bearer {token}"),)
    latencies: list[float] = []
    errors = 0
    with grpc.insecure_channel(address) as channel:
        account = account_pb2_grpc.AccountServiceStub(channel)
        jobs = job_pb2_grpc.JobServiceStub(channel)
        calls = [
            lambda: account.GetBalance(account_pb2.GetBalanceRequest(), metadata=metadata),
            lambda: jobs.ListJobs(job_pb2.ListJobsRequest(), metadata=metadata),
        ]
        deadline = time.monotonic() + seconds
        n = 0
        while time.monotonic() < deadline:
            began = time.perf_counter()
            try:
                calls[n % 2]()
            except grpc.RpcError:
                errors += 1
            latencies.append((time.perf_counter() - began) * 1000)
            n += 1
            time.sleep(0.01)
    return {
        "calls": len(latencies),
        "errors": errors,
        "p50_ms": round(benchkit.percentile(latencies, 0.50), 2),
        "p99_ms": round(benchkit.percentile(latencies, 0.99), 2),
        "max_ms": round(max(latencies, default=0.0), 2),
    }


def abuser_run(
    address: str, token: str, seconds: float, tasks: int, loops: int, floods: int
) -> dict:
    """The abusive account's worst: submit/cancel loops and a flood of cheap calls."""
    metadata = (("authorization", f"Bearer {token}"),)
    stats = {"jobs_submitted": 0, "jobs_cancelled": 0, "tasks_created": 0, "refused": 0}
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def count(key: str, amount: int = 1) -> None:
        with lock:
            stats[key] += amount

    with grpc.insecure_channel(address) as channel:
        jobs = job_pb2_grpc.JobServiceStub(channel)
        account = account_pb2_grpc.AccountServiceStub(channel)
        digest = upload_package(channel, metadata)
        request = job_pb2.SubmitJobRequest(
            name="abuse",
            runtime="python-3.11",
            command=["python3", "main.py"],
            package_digest=digest,
            task_count=tasks,
            resources=common_pb2.Resources(cores=1, memory_mb=16, timeout_s=1),
        )

        def submit_cancel() -> None:
            while time.monotonic() < stop:
                try:
                    job = jobs.SubmitJob(request, metadata=metadata, timeout=300)
                    count("jobs_submitted")
                    count("tasks_created", job.tasks_total)
                    jobs.CancelJob(
                        job_pb2.CancelJobRequest(job_id=job.job_id), metadata=metadata, timeout=300
                    )
                    count("jobs_cancelled")
                except grpc.RpcError:
                    count("refused")
                    time.sleep(0.05)

        def flood() -> None:
            n = 0
            while time.monotonic() < stop:
                try:
                    if n % 2:
                        account.GetBalance(account_pb2.GetBalanceRequest(), metadata=metadata)
                    else:
                        jobs.ListJobs(job_pb2.ListJobsRequest(), metadata=metadata)
                except grpc.RpcError:
                    count("refused")
                n += 1

        threads = [threading.Thread(target=submit_cancel) for _ in range(loops)]
        threads += [threading.Thread(target=flood) for _ in range(floods)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        history = account.ListHistory(
            account_pb2.ListHistoryRequest(page=common_pb2.PageRequest(page_size=500)),
            metadata=metadata,
        )
        stats["fees_paid_ucpt"] = -sum(e.amount_ucpt for e in history.entries if e.reason == "fee")
    return stats


def task_rows(data_dir: Path) -> int:
    return int(benchkit.query(data_dir, "SELECT COUNT(*) FROM tasks")[0][0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--tasks", type=int, default=100_000)
    parser.add_argument("--loops", type=int, default=2, help="submit/cancel threads")
    parser.add_argument("--flooders", type=int, default=4, help="cheap-call threads")
    parser.add_argument("--defenses", choices=("on", "off"), default="on")
    parser.add_argument("--role", choices=("bench", "abuser"), default="bench")
    parser.add_argument("--address", default="")
    args = parser.parse_args()
    if args.role == "abuser":
        token = os.environ["HIVEMIND_BENCH_TOKEN"]
        seconds, tasks = args.seconds, args.tasks
        result = abuser_run(args.address, token, seconds, tasks, args.loops, args.flooders)
        print(json.dumps(result))
        return

    with tempfile.TemporaryDirectory(prefix="hivemind-abuse-") as tmp:
        data_dir = Path(tmp)
        # The dashboard as `hivemind-server run` serves it by default (or none, when another
        # program holds its port).
        server, address = benchkit.start_server(
            data_dir, server_settings(args.defenses == "on"), http="auto"
        )
        try:
            with grpc.insecure_channel(address) as channel:
                honest_token = register(channel, "alice")
                abuser_token = register(channel, "mallory")
            baseline = honest_run(address, honest_token, args.seconds)
            abuser = subprocess.Popen(
                [
                    sys.executable,
                    __file__,
                    "--role",
                    "abuser",
                    "--address",
                    address,
                    "--seconds",
                    str(args.seconds),
                    "--tasks",
                    str(args.tasks),
                    "--loops",
                    str(args.loops),
                    "--flooders",
                    str(args.flooders),
                ],
                env=dict(os.environ, HIVEMIND_BENCH_TOKEN=abuser_token),  # not in argv
                stdout=subprocess.PIPE,
                text=True,
            )
            time.sleep(1.0)  # let the attack get going
            under_abuse = honest_run(address, honest_token, args.seconds - 1.0)
            out, _ = abuser.communicate(timeout=args.seconds + 600)
            attack = json.loads(out.strip().splitlines()[-1])
        finally:
            benchkit.stop_server(server)
        rows = task_rows(data_dir)
    print(
        json.dumps(
            {
                "bench": "abuse",
                "defenses": args.defenses,
                "seconds": args.seconds,
                "tasks_per_job": args.tasks,
                "honest_alone": baseline,
                "honest_under_abuse": under_abuse,
                "p99_ratio": round(under_abuse["p99_ms"] / max(baseline["p99_ms"], 0.01), 1),
                "abuser": attack,
                "task_rows_left": rows,
            }
        )
    )


if __name__ == "__main__":
    main()
