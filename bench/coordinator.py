"""Coordinator throughput: how many tiny tasks per second the server leases, completes and pays.

A real server subprocess on a fresh data dir; a submitter uploads a package and submits one
job of --tasks tasks; --workers simulated workers (separate processes speaking real gRPC)
lease batches of up to --batch tasks and complete each batch at once (no execution). Every
completion is paid from the job's escrow, as in production.

With --database-url (a PostgreSQL URL whose role may create databases, e.g. what
.ci/postgres-setup.sh prints) the server keeps its state in a fresh database made on that
cluster for the run and dropped afterwards; without it, in SQLite in the data dir.

--dashboard says what the server's web dashboard does meanwhile: `off` (not served), `idle`
(served, nobody looks), or `polled` (the default when asked): a poller process scrapes
/metrics every --scrape-every seconds, as Prometheus does, and --browsers signed-in browsers
each fetch the network page's live part every --browse-every seconds, as its script does
(and the whole page every tenth time). Compare `--dashboard off` with `--dashboard polled`,
interleaved, to see what serving the dashboard and metrics costs the coordinator.

Prints ONE JSON line: database, dashboard, tasks, workers, seconds, tasks_per_s, server_cpu_s
(the server process's CPU time during the run), server_cpu_ms_per_task, lease_p50_ms,
lease_p99_ms, paid_ucpt, and when polled: web_requests, web_errors, metrics_p50_ms,
page_p50_ms.
Run: .venv/bin/python bench/coordinator.py --tasks 10000 --workers 4 [--database-url URL]
     [--dashboard off|idle|polled]
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import grpc
import psutil

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from proto.hivemind.v1 import (  # noqa: E402
    artifact_pb2,
    artifact_pb2_grpc,
    auth_pb2,
    auth_pb2_grpc,
    common_pb2,
    job_pb2,
    job_pb2_grpc,
    node_pb2,
    node_pb2_grpc,
)

PASSWORD = "bench password 1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def fresh_database(cluster_url: str) -> Iterator[str]:
    """A new database on the cluster of `cluster_url` for one run; dropped afterwards."""
    from sqlalchemy import create_engine, make_url, text
    from sqlalchemy.pool import NullPool

    name = f"hivemind_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(cluster_url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield make_url(cluster_url).set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
    finally:
        admin.dispose()


def start_server(
    data_dir: Path, port: int, database_url: str = "", http: str = "off"
) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT))
    # The URL goes by environment, not argv: it may hold a password.
    env["HIVEMIND_SERVER_DATABASE_URL"] = database_url
    # Leases long enough that none expires while the bench runs.
    env["HIVEMIND_SERVER_LEASE_TTL_S"] = "600"
    # The submitter pays from the sign-up grant (starter credit): enough for 100,000 tasks.
    env["HIVEMIND_SERVER_SIGNUP_GRANT_UCPT"] = str(1000 * 1_000_000)
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
            "--http",
            http,
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


def user_metadata(channel: grpc.Channel, username: str) -> tuple:
    session = auth_pb2_grpc.AuthServiceStub(channel).Register(
        auth_pb2.RegisterRequest(username=username, password=PASSWORD)
    )
    return (("authorization", f"Bearer {session.access_token}"),)


def package_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("hivemind.toml", 'name = "bench"\n')
        archive.writestr("main.py", "print('hi')\n")
    return buffer.getvalue()


def submit_job(channel: grpc.Channel, metadata: tuple, tasks: int) -> str:
    data = package_bytes()
    header = artifact_pb2.UploadHeader(
        kind=common_pb2.ARTIFACT_KIND_PACKAGE,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        name="bench.zip",
    )
    chunks = iter([artifact_pb2.UploadChunk(header=header), artifact_pb2.UploadChunk(data=data)])
    info = artifact_pb2_grpc.ArtifactServiceStub(channel).Upload(chunks, metadata=metadata)
    job = job_pb2_grpc.JobServiceStub(channel).SubmitJob(
        job_pb2.SubmitJobRequest(
            name="bench",
            runtime="python-3.11",
            command=["python3", "main.py"],
            package_digest=info.digest,
            task_count=tasks,
            resources=common_pb2.Resources(cores=1, memory_mb=16, timeout_s=1),
        ),
        metadata=metadata,
    )
    return job.job_id


def register_node(channel: grpc.Channel, metadata: tuple, name: str) -> str:
    reply = node_pb2_grpc.NodeServiceStub(channel).RegisterNode(
        node_pb2.RegisterNodeRequest(
            name=name, hardware=node_pb2.Hardware(cores=64, memory_mb=65536), executors=["process"]
        ),
        metadata=metadata,
    )
    return f"Node {reply.node_id}.{reply.node_secret}"


def run_worker(address: str, credential: str, batch: int) -> None:
    """One simulated worker: waits for "go" on stdin, then leases and completes until the
    queue is empty; prints its lease latencies (ms) as one JSON line."""
    metadata = (("authorization", credential),)
    with grpc.insecure_channel(address) as channel:
        nodes = node_pb2_grpc.NodeServiceStub(channel)
        grpc.channel_ready_future(channel).result(timeout=10)
        sys.stdout.write("ready\n")
        sys.stdout.flush()
        sys.stdin.readline()
        latencies: list[float] = []
        completed = 0
        request = node_pb2.LeaseTasksRequest(
            free_cores=batch,
            free_memory_mb=batch * 1024,
            free_disk_mb=batch * 2048,
            max_tasks=batch,
        )
        while True:
            began = time.perf_counter()
            leases = nodes.LeaseTasks(request, metadata=metadata).leases
            latencies.append((time.perf_counter() - began) * 1000)
            if not leases:
                break
            acks = nodes.CompleteAttempts(
                node_pb2.CompleteAttemptsRequest(
                    completions=[
                        node_pb2.Completion(
                            attempt_id=lease.attempt_id,
                            stats=node_pb2.AttemptStats(wall_seconds=0.01, cpu_seconds=0.01),
                        )
                        for lease in leases
                    ]
                ),
                metadata=metadata,
            ).acks
            completed += sum(1 for ack in acks if ack.accepted)
    print(json.dumps({"completed": completed, "lease_ms": latencies}))


def run_poller(base: str, username: str, scrape_every: float, browsers: int, every: float) -> None:
    """The dashboard's visitors: waits for "go" on stdin, then polls until stdin closes;
    prints what it fetched and how long each fetch took (ms) as one JSON line."""
    import asyncio
    import re
    import threading

    import aiohttp

    stop = threading.Event()
    signed_in: list[int] = []

    async def scraper(http: aiohttp.ClientSession, took: list[float], errors: list[int]) -> None:
        while not stop.is_set():
            began = time.perf_counter()
            async with http.get(f"{base}/metrics") as reply:
                await reply.read()
                elapsed = (time.perf_counter() - began) * 1000
                (took if reply.status == 200 else errors).append(elapsed)
            await asyncio.sleep(scrape_every)

    async def browser(index: int, took: list[float], errors: list[int]) -> None:
        jar = aiohttp.CookieJar(unsafe=True)
        async with aiohttp.ClientSession(cookie_jar=jar) as http:
            async with http.get(f"{base}/signin") as reply:
                token = re.search(r'name="csrf" value="([^"]+)"', await reply.text()).group(1)
            form = {"csrf": token, "username": username, "password": PASSWORD}
            async with http.post(f"{base}/signin", data=form) as reply:
                assert reply.status == 200, reply.status
            signed_in.append(index)
            while len(signed_in) < browsers:  # the slow sign-ins happen before the run
                await asyncio.sleep(0.05)
            await asyncio.sleep(every * index / max(browsers, 1))  # not all at once
            visits = 0
            while not stop.is_set():
                page = "/network" if visits % 10 == 0 else "/network/live"
                headers = {} if page == "/network" else {"X-HiveMind-Live": "1"}
                began = time.perf_counter()
                async with http.get(base + page, headers=headers) as reply:
                    await reply.read()
                    elapsed = (time.perf_counter() - began) * 1000
                    (took if reply.status == 200 else errors).append(elapsed)
                visits += 1
                await asyncio.sleep(every)

    async def main() -> dict:
        metrics_ms: list[float] = []
        page_ms: list[float] = []
        errors: list[int] = []
        async with aiohttp.ClientSession() as http:
            tasks = [asyncio.create_task(browser(i, page_ms, errors)) for i in range(browsers)]
            while len(signed_in) < browsers:
                await asyncio.sleep(0.05)
            tasks.append(asyncio.create_task(scraper(http, metrics_ms, errors)))
            sys.stdout.write("polling\n")
            sys.stdout.flush()
            while not stop.is_set():
                await asyncio.sleep(0.1)
            await asyncio.gather(*tasks)
        return {"metrics_ms": metrics_ms, "page_ms": page_ms, "errors": len(errors)}

    sys.stdout.write("ready\n")
    sys.stdout.flush()
    sys.stdin.readline()  # "go"
    threading.Thread(target=lambda: (sys.stdin.readline(), stop.set()), daemon=True).start()
    print(json.dumps(asyncio.run(main())))


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else 0.0


@contextmanager
def _database(cluster_url: str) -> Iterator[str]:
    if not cluster_url:
        yield ""  # SQLite in the data dir
        return
    with fresh_database(cluster_url) as url:
        yield url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument(
        "--database-url",
        default="",
        help="PostgreSQL cluster to run on (a fresh database is made there); default SQLite",
    )
    parser.add_argument(
        "--dashboard",
        choices=["off", "idle", "polled"],
        default="off",
        help="the web dashboard meanwhile: not served, served, or served and polled",
    )
    parser.add_argument("--scrape-every", type=float, default=1.0, help="s between scrapes")
    parser.add_argument("--browsers", type=int, default=4, help="signed-in network pages open")
    parser.add_argument("--browse-every", type=float, default=1.0, help="s between refreshes")
    parser.add_argument(
        "--worker", nargs=2, metavar=("ADDRESS", "CREDENTIAL"), help=argparse.SUPPRESS
    )
    parser.add_argument("--poller", nargs=2, metavar=("URL", "USERNAME"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        run_worker(args.worker[0], args.worker[1], args.batch)
        return
    if args.poller:
        run_poller(
            args.poller[0], args.poller[1], args.scrape_every, args.browsers, args.browse_every
        )
        return

    if args.database_url and not args.database_url.startswith("postgresql"):
        raise SystemExit("--database-url: a PostgreSQL URL, e.g. postgresql+psycopg://...")
    with (
        _database(args.database_url) as database_url,
        tempfile.TemporaryDirectory(prefix="hivemind-bench-") as tmp,
    ):
        data_dir = Path(tmp)
        port = free_port()
        address = f"127.0.0.1:{port}"
        web = f"127.0.0.1:{free_port()}" if args.dashboard != "off" else "off"
        server = start_server(data_dir, port, database_url, web)
        poller = None
        try:
            with grpc.insecure_channel(address) as channel:
                submitter = user_metadata(channel, "submitter")
                contributor = user_metadata(channel, "contributor")
                job_id = submit_job(channel, submitter, args.tasks)
                credentials = [
                    register_node(channel, contributor, f"worker-{i}") for i in range(args.workers)
                ]
                env = dict(os.environ, PYTHONPATH=str(REPO_ROOT))
                workers = [
                    subprocess.Popen(
                        [
                            sys.executable,
                            __file__,
                            "--batch",
                            str(args.batch),
                            "--worker",
                            address,
                            credential,
                        ],
                        stdin=subprocess.PIPE,
                        stdout=subprocess.PIPE,
                        env=env,
                        text=True,
                    )
                    for credential in credentials
                ]
                if args.dashboard == "polled":
                    poller = subprocess.Popen(
                        [
                            sys.executable,
                            __file__,
                            "--scrape-every",
                            str(args.scrape_every),
                            "--browsers",
                            str(args.browsers),
                            "--browse-every",
                            str(args.browse_every),
                            "--poller",
                            f"http://{web}",
                            "submitter",
                        ],
                        stdin=subprocess.PIPE,
                        stdout=subprocess.PIPE,
                        env=env,
                        text=True,
                    )
                    assert poller.stdout is not None and poller.stdout.readline() == "ready\n"
                for worker in workers:
                    assert worker.stdout is not None and worker.stdout.readline() == "ready\n"
                if poller is not None:
                    assert poller.stdin is not None
                    poller.stdin.write("go\n")
                    poller.stdin.flush()
                    assert poller.stdout.readline() == "polling\n"  # signed in, polling
                server_cpu = psutil.Process(server.pid)
                cpu_before = sum(server_cpu.cpu_times()[:2])
                began = time.perf_counter()
                for worker in workers:
                    assert worker.stdin is not None
                    worker.stdin.write("go\n")
                    worker.stdin.flush()
                outputs = [worker.communicate()[0] for worker in workers]
                seconds = time.perf_counter() - began
                cpu_seconds = sum(server_cpu.cpu_times()[:2]) - cpu_before
                polled = None
                if poller is not None:
                    polled = json.loads(poller.communicate("stop\n", timeout=60)[0])
                if any(worker.returncode for worker in workers):
                    log = (data_dir / "server.log").read_text(errors="replace")
                    raise SystemExit(f"a worker failed; the server's log ends:\n{log[-20000:]}")
                reports = [json.loads(output) for output in outputs]
                job = (
                    job_pb2_grpc.JobServiceStub(channel)
                    .GetJob(job_pb2.GetJobRequest(job_id=job_id), metadata=submitter)
                    .job
                )
        finally:
            if poller is not None and poller.poll() is None:
                poller.kill()
            server.terminate()
            server.wait(timeout=30)
    completed = sum(report["completed"] for report in reports)
    if job.tasks_done != args.tasks or completed != args.tasks:
        raise SystemExit(f"bench incomplete: job has {job.tasks_done} done, workers {completed}")
    latencies = [ms for report in reports for ms in report["lease_ms"]]
    web_numbers = {}
    if polled is not None:
        web_numbers = {
            "web_requests": len(polled["metrics_ms"]) + len(polled["page_ms"]),
            "web_errors": polled["errors"],
            "metrics_p50_ms": round(percentile(polled["metrics_ms"], 0.5), 2),
            "page_p50_ms": round(percentile(polled["page_ms"], 0.5), 2),
        }
    print(
        json.dumps(
            {
                "database": "postgresql" if args.database_url else "sqlite",
                "dashboard": args.dashboard,
                "tasks": args.tasks,
                "workers": args.workers,
                "seconds": round(seconds, 3),
                "tasks_per_s": round(args.tasks / seconds, 1),
                # The server's own CPU time for the run (user + system): what the dashboard
                # costs it shows here even when other programs make the wall time noisy.
                "server_cpu_s": round(cpu_seconds, 2),
                "server_cpu_ms_per_task": round(cpu_seconds * 1000 / args.tasks, 3),
                "lease_p50_ms": round(statistics.median(latencies), 2),
                "lease_p99_ms": round(percentile(latencies, 0.99), 2),
                "paid_ucpt": job.cost_ucpt,
                **web_numbers,
            }
        )
    )


if __name__ == "__main__":
    main()
