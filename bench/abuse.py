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
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from pathlib import Path

import grpc

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from proto.hivemind.v1 import (  # noqa: E402
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


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(data_dir: Path, port: int, defenses: bool) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT))
    env["HIVEMIND_SERVER_SIGNUP_GRANT_UCPT"] = str(GRANT_UCPT)
    env["HIVEMIND_SERVER_MAX_ACTIVE_JOBS_PER_USER"] = "1000"
    if not defenses:
        env["HIVEMIND_SERVER_SUBMIT_BATCH_TASKS"] = "10000000"
        env["HIVEMIND_SERVER_RPC_RATE_PER_S"] = "0"
        env["HIVEMIND_SERVER_TASK_FEE_UCPT"] = "0"
    log = open(data_dir / "server.log", "wb")  # noqa: SIM115 - lives as long as the server
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "server",
            "run",
            "--data-dir",
            str(data_dir),
            "--listen",
            f"127.0.0.1:{port}",
            "--no-bittorrent",
        ],
        cwd=REPO_ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    try:
        grpc.channel_ready_future(channel).result(timeout=30)
    except grpc.FutureTimeoutError:
        process.kill()
        raise SystemExit((data_dir / "server.log").read_text()) from None
    finally:
        channel.close()
    return process


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


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


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
        "p50_ms": round(percentile(latencies, 0.50), 2),
        "p99_ms": round(percentile(latencies, 0.99), 2),
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
    with sqlite3.connect(data_dir / "hivemind.db") as conn:
        return int(conn.execute("SELECT COUNT(*) FROM tasks").fetchone()[0])


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
        port = free_port()
        address = f"127.0.0.1:{port}"
        server = start_server(data_dir, port, args.defenses == "on")
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
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
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
