"""Coordinator throughput: how many tiny tasks per second the server leases, completes and pays,
what each task costs the database, and Ray's no-op tasks in the same run for comparison.

Real server subprocesses on fresh data dirs; a submitter uploads a package and submits one
job of --tasks tasks; --workers simulated workers (separate processes speaking real gRPC)
lease batches of up to --batch tasks and complete each batch at once (no execution). Every
completion is paid from the job's escrow, as in production.

With --database-url (a PostgreSQL URL whose role may create databases, e.g. what
.ci/postgres-setup.sh prints) the servers keep their state in a fresh database made on that
cluster for the run and dropped afterwards; without it, in SQLite in the data dir.
--replicas N starts N server replicas on that one database (docs/ADMIN.md, "Scale-out":
one token.key, one Redis namespace) and spreads the workers over them (worker i talks to
replica i mod N); --redis starts a redis-server for the run (or --redis-url names one; a
fresh namespace is used), which replicas should have.

Per-task database work is what the servers' own counters say (hivemind_db_* on /metrics,
server/store/db_work.py), read from every replica just before the workers start and just
after they finish, summed: statements (by kind; on PostgreSQL every transaction's lock and
unlock are the `lock` kind), rows written, time spent taking the transaction lock, and
transactions run again after a serialization conflict. On PostgreSQL the bench also samples
pg_stat_activity every 20 ms for backends of the run's database waiting for a lock
(wait_event_type 'Lock': the transaction lock, row and transaction locks alike) and sums
those waits (pg_lock_wait_ms_per_task: a sampled estimate that covers every lock).

--idle-nodes K registers K more nodes, spread over the replicas, that keep a LeaseTasks call
open meanwhile as idle workers do (a long-poll), offering too little memory for the bench's
tasks: whenever the server wakes one it runs a lease transaction and finds nothing. They show
what wake-ups cost the database (lease_transactions_per_task counts every lease transaction,
a worker's or a woken idle node's).

Ray: with --ray on (the default when ~/.cache/peers/bin/python and
/work/shared/peers/ray_noop.py exist; --ray-python and --ray-script point elsewhere),
Ray's no-op script runs for the same task count after the servers stopped (never at the same
time), and the line gains ray_tasks_per_s and ratio (ours / Ray).

--dashboard says what the server's web dashboard does meanwhile. Every server serves /metrics
(the bench reads it twice); `off` and `idle`: nobody else looks; `polled`: a poller process
scrapes /metrics of the first replica every --scrape-every seconds, as Prometheus does, and
--browsers signed-in browsers each fetch its network page's live part every --browse-every
seconds, as its script does (and the whole page every tenth time). Compare `--dashboard idle`
with `--dashboard polled`, interleaved, to see what the dashboard and metrics cost.

Prints ONE JSON line: database, replicas, redis, dashboard, tasks, workers, seconds,
tasks_per_s, server_cpu_s (the servers' CPU time during the run, summed),
server_cpu_ms_per_task, lease_p50_ms, lease_p99_ms, paid_ucpt, leased_by_replica,
db_statements_per_task, db_statements_by_kind_per_task, db_rows_written_per_task,
db_lock_wait_ms_per_task, db_retries_per_task, lease_transactions_per_task; with idle nodes:
idle_nodes, idle_lease_calls (the calls they made; one call may be woken many times); on
PostgreSQL: pg_lock_wait_ms_per_task, pg_lock_waits_by_event (ms per task); with Ray:
ray_tasks_per_s, ratio; when polled: web_requests, web_errors, metrics_p50_ms, page_p50_ms.
With --rounds N the whole run (fresh servers and database, then Ray's) is done N times in a
row and the line is the round with the median ratio (median tasks_per_s without Ray), plus
`rounds`: each round's tasks_per_s, ray_tasks_per_s, ratio, lease_p99_ms and
server_cpu_ms_per_task. On a shared machine both sides move from minute to minute; Ray's
run right after each of ours keeps each ratio a like-for-like comparison.

Run: .venv/bin/python bench/coordinator.py --tasks 10000 --workers 4 [--database-url URL]
     [--replicas N --redis] [--idle-nodes K] [--dashboard off|idle|polled] [--ray on|off]
     [--rounds N]
The replica sweep is one invocation per count (one JSON line each), e.g.
     for n in 1 2 3; do .venv/bin/python bench/coordinator.py --tasks 10000 --workers 4 \\
         --database-url "$URL" --redis --replicas $n; done
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
import zipfile
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import benchkit
import grpc
import psutil

from proto.hivemind.v1 import (
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
RAY_PYTHON = Path.home() / ".cache" / "peers" / "bin" / "python"
RAY_SCRIPT = Path("/work/shared/peers/ray_noop.py")
DB_KINDS = ("select", "insert", "update", "delete", "lock", "other")
LOCK_SAMPLE_S = 0.02
IDLE_WAIT_MS = 20_000  # an idle worker's long-poll (the server caps it: lease_wait_max_s)
TOKEN_KEY = "token.key"  # server/accounts/signing.py: one for every replica


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


def run_idlers(address: str) -> None:
    """Idle nodes (credentials in HIVEMIND_BENCH_CREDENTIALS, comma-separated): each keeps a
    LeaseTasks call open the way an idle worker does (a long-poll), offering too little memory
    for the bench's tasks, so whenever it is woken the server looks and finds nothing for it.
    Says "ready" once every node's first call is waiting, stops when stdin closes; prints the
    calls made as one JSON line."""
    import asyncio

    credentials = os.environ["HIVEMIND_BENCH_CREDENTIALS"].split(",")
    request = node_pb2.LeaseTasksRequest(
        free_cores=1, free_memory_mb=8, free_disk_mb=64, max_tasks=1, wait_ms=IDLE_WAIT_MS
    )

    async def main() -> dict:
        calls = leased = 0
        async with grpc.aio.insecure_channel(address) as channel:
            nodes = node_pb2_grpc.NodeServiceStub(channel)

            async def idle(credential: str) -> None:
                nonlocal calls, leased
                metadata = (("authorization", credential),)
                while True:
                    calls += 1
                    reply = await nodes.LeaseTasks(request, metadata=metadata)
                    leased += len(reply.leases)

            loops = [asyncio.create_task(idle(credential)) for credential in credentials]
            await asyncio.sleep(1.0)  # every first call answered "nothing" and waits
            sys.stdout.write("ready\n")
            sys.stdout.flush()
            await asyncio.to_thread(sys.stdin.read)
            for loop in loops:
                loop.cancel()
            await asyncio.gather(*loops, return_exceptions=True)
        return {"calls": calls - len(credentials), "leased": leased}  # after the first ones

    print(json.dumps(asyncio.run(main())))


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


@contextmanager
def _database(cluster_url: str) -> Iterator[str]:
    if not cluster_url:
        yield ""  # SQLite in the data dir
        return
    with fresh_database(cluster_url) as url:
        yield url


@dataclass
class Replica:
    process: subprocess.Popen
    address: str  # gRPC
    web: str  # HOST:PORT of its dashboard and /metrics
    data_dir: Path


def start_replicas(work: Path, count: int, database_url: str, redis_url: str) -> list[Replica]:
    """`count` servers on one database (and one Redis namespace), started one after the
    other: the first creates the schema and the token key the others get a copy of."""
    settings: dict[str, object] = {
        "database_url": database_url,
        # Leases long enough that none expires while the bench runs.
        "lease_ttl_s": 600,
        # The submitter pays from the sign-up grant (starter credit): enough for 100,000 tasks.
        "signup_grant_ucpt": 1000 * 1_000_000,
    }
    if redis_url:
        settings |= {"redis_url": redis_url, "redis_namespace": f"bench-{uuid.uuid4().hex[:8]}"}
    replicas: list[Replica] = []
    try:
        for index in range(count):
            data_dir = work / f"replica-{'abcdefghijklmnopqrstuvwxyz'[index]}"
            data_dir.mkdir()
            if replicas:
                shutil.copy2(replicas[0].data_dir / TOKEN_KEY, data_dir / TOKEN_KEY)
            web = f"127.0.0.1:{benchkit.free_port()}"
            process, address = benchkit.start_server(data_dir, settings, http=web)
            replicas.append(Replica(process, address, web, data_dir))
    except BaseException:
        for replica in replicas:
            benchkit.stop_server(replica.process)
        raise
    return replicas


def database_work(web: str) -> dict[str, float]:
    """The hivemind_db_* counters a server's /metrics serves now."""
    from prometheus_client.parser import text_string_to_metric_families

    with urllib.request.urlopen(f"http://{web}/metrics", timeout=60) as reply:
        text = reply.read().decode()
    found = {
        (sample.name, sample.labels.get("kind", "")): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }
    work = {kind: found.get(("hivemind_db_statements_total", kind), 0.0) for kind in DB_KINDS}
    work["rows_written"] = found.get(("hivemind_db_rows_written_total", ""), 0.0)
    work["lock_wait_s"] = found.get(("hivemind_db_lock_wait_seconds_total", ""), 0.0)
    work["retries"] = found.get(("hivemind_db_transaction_retries_total", ""), 0.0)
    work["leased"] = found.get(("hivemind_tasks_leased_total", ""), 0.0)
    work["lease_transactions"] = found.get(("hivemind_lease_seconds_count", ""), 0.0)
    return work


class LockWaitSampler(threading.Thread):
    """Samples pg_stat_activity every LOCK_SAMPLE_S for the run's database: each backend seen
    waiting for a lock adds the time since the last sample to its wait event's total."""

    def __init__(self, database_url: str) -> None:
        super().__init__(daemon=True)
        self.database_url = database_url
        self.stop = threading.Event()
        self.seconds: dict[str, float] = defaultdict(float)

    def run(self) -> None:
        from sqlalchemy import create_engine, make_url, text
        from sqlalchemy.pool import NullPool

        name = make_url(self.database_url).database
        engine = create_engine(self.database_url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
        waiting = text(
            "SELECT wait_event, count(*) FROM pg_stat_activity"
            " WHERE datname = :name AND wait_event_type = 'Lock' GROUP BY wait_event"
        )
        try:
            with engine.connect() as conn:
                last = time.perf_counter()
                while not self.stop.wait(LOCK_SAMPLE_S):
                    rows = conn.execute(waiting, {"name": name}).all()
                    now = time.perf_counter()
                    for event, backends in rows:
                        self.seconds[event] += backends * (now - last)
                    last = now
        finally:
            engine.dispose()


def ray_noop_rate(python: Path, script: Path, tasks: int) -> float:
    """Ray's no-op tasks per second for `tasks` tasks (its script's own timing)."""
    done = subprocess.run(
        [str(python), str(script), str(tasks)], capture_output=True, text=True, timeout=1800
    )
    seconds = re.search(r"seconds=([0-9.]+)", done.stdout)
    if done.returncode or seconds is None:
        raise SystemExit(f"Ray's no-op run failed:\n{(done.stdout + done.stderr)[-3000:]}")
    return tasks / float(seconds.group(1))


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
    parser.add_argument("--replicas", type=int, default=1, help="servers on the one database")
    parser.add_argument(
        "--rounds", type=int, default=1, help="runs, each with Ray's right after; the median"
    )
    parser.add_argument("--redis", action="store_true", help="start a redis-server for the run")
    parser.add_argument("--redis-url", default="", help="an existing Redis (a fresh namespace)")
    parser.add_argument(
        "--ray",
        choices=["auto", "on", "off"],
        default="auto",
        help="Ray's no-op tasks after ours (auto: when its Python and script exist)",
    )
    parser.add_argument("--ray-python", type=Path, default=RAY_PYTHON)
    parser.add_argument("--ray-script", type=Path, default=RAY_SCRIPT)
    parser.add_argument(
        "--dashboard",
        choices=["off", "idle", "polled"],
        default="off",
        help="the web dashboard meanwhile: nobody looks (off, idle), or it is polled",
    )
    parser.add_argument("--scrape-every", type=float, default=1.0, help="s between scrapes")
    parser.add_argument("--browsers", type=int, default=4, help="signed-in network pages open")
    parser.add_argument("--browse-every", type=float, default=1.0, help="s between refreshes")
    parser.add_argument(
        "--idle-nodes",
        type=int,
        default=0,
        help="nodes too small for the tasks, long-polling LeaseTasks meanwhile (over replicas)",
    )
    parser.add_argument(
        "--worker", nargs=2, metavar=("ADDRESS", "CREDENTIAL"), help=argparse.SUPPRESS
    )
    parser.add_argument("--idlers", metavar="ADDRESS", help=argparse.SUPPRESS)
    parser.add_argument("--poller", nargs=2, metavar=("URL", "USERNAME"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        run_worker(args.worker[0], args.worker[1], args.batch)
        return
    if args.idlers:
        run_idlers(args.idlers)
        return
    if args.poller:
        run_poller(
            args.poller[0], args.poller[1], args.scrape_every, args.browsers, args.browse_every
        )
        return

    if args.database_url and not args.database_url.startswith("postgresql"):
        raise SystemExit("--database-url: a PostgreSQL URL, e.g. postgresql+psycopg://...")
    if args.replicas < 1:
        raise SystemExit("--replicas: at least 1")
    if args.replicas > 1 and not args.database_url:
        raise SystemExit("--replicas: replicas share a PostgreSQL database; give --database-url")
    if args.redis and args.redis_url:
        raise SystemExit("--redis starts a Redis, --redis-url names one: not both")
    ray_files = (args.ray_python, args.ray_script)
    with_ray = args.ray == "on" or (args.ray == "auto" and all(f.exists() for f in ray_files))
    if args.ray == "on" and not all(f.exists() for f in ray_files):
        raise SystemExit(f"--ray on: no {' or '.join(str(f) for f in ray_files)}")
    if args.rounds < 1:
        raise SystemExit("--rounds: at least 1")
    results = [measure(args, with_ray) for _ in range(args.rounds)]
    if len(results) == 1:
        print(json.dumps(results[0]))
        return
    # The round in the middle by its ratio to Ray (by throughput without Ray), and every
    # round's figures: on a shared machine both sides move from minute to minute.
    key = "ratio" if with_ray else "tasks_per_s"
    middle = sorted(results, key=lambda result: result[key])[len(results) // 2]
    figures = ("tasks_per_s", "ray_tasks_per_s", "ratio", "lease_p99_ms", "server_cpu_ms_per_task")
    rounds = [{name: result[name] for name in figures if name in result} for result in results]
    print(json.dumps(middle | {"rounds": rounds}))


def measure(args: argparse.Namespace, with_ray: bool) -> dict[str, object]:
    """One run of the servers (and Ray's, right after, when `with_ray`): the JSON line's
    figures."""
    with (
        _database(args.database_url) as database_url,
        tempfile.TemporaryDirectory(prefix="hivemind-bench-") as tmp,
    ):
        work = Path(tmp)
        redis_process, redis_url = None, args.redis_url
        if args.redis:
            redis_process, redis_url = benchkit.start_redis(work)
        replicas: list[Replica] = []
        poller = None
        idlers: list[subprocess.Popen] = []
        sampler = LockWaitSampler(database_url) if database_url else None
        try:
            replicas = start_replicas(work, args.replicas, database_url, redis_url)
            first = replicas[0]
            with grpc.insecure_channel(first.address) as channel:
                submitter = user_metadata(channel, "submitter")
                contributor = user_metadata(channel, "contributor")
                job_id = submit_job(channel, submitter, args.tasks)
                credentials = [
                    register_node(channel, contributor, f"worker-{i}") for i in range(args.workers)
                ]
                env = dict(os.environ, PYTHONPATH=str(benchkit.REPO_ROOT))
                workers = [
                    subprocess.Popen(
                        [
                            sys.executable,
                            __file__,
                            "--batch",
                            str(args.batch),
                            "--worker",
                            replicas[i % len(replicas)].address,
                            credential,
                        ],
                        stdin=subprocess.PIPE,
                        stdout=subprocess.PIPE,
                        env=env,
                        text=True,
                    )
                    for i, credential in enumerate(credentials)
                ]
                idle_nodes = [
                    register_node(channel, contributor, f"idle-{i}") for i in range(args.idle_nodes)
                ]
                for index, replica in enumerate(replicas):
                    mine = idle_nodes[index :: len(replicas)]
                    if mine:  # not in argv, as the workers' are: there are many
                        idler_env = dict(env, HIVEMIND_BENCH_CREDENTIALS=",".join(mine))
                        command = [sys.executable, __file__, "--idlers", replica.address]
                        idlers.append(
                            subprocess.Popen(
                                command,
                                stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE,
                                env=idler_env,
                                text=True,
                            )
                        )
                for idler in idlers:
                    assert idler.stdout is not None and idler.stdout.readline() == "ready\n"
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
                            f"http://{first.web}",
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
                processes = [psutil.Process(replica.process.pid) for replica in replicas]
                work_before = [database_work(replica.web) for replica in replicas]
                if sampler is not None:
                    sampler.start()
                cpu_before = sum(sum(p.cpu_times()[:2]) for p in processes)
                began = time.perf_counter()
                for worker in workers:
                    assert worker.stdin is not None
                    worker.stdin.write("go\n")
                    worker.stdin.flush()
                outputs = [worker.communicate()[0] for worker in workers]
                seconds = time.perf_counter() - began
                cpu_seconds = sum(sum(p.cpu_times()[:2]) for p in processes) - cpu_before
                if sampler is not None:
                    sampler.stop.set()
                    sampler.join()
                work_after = [database_work(replica.web) for replica in replicas]
                idled = [json.loads(idler.communicate("", timeout=60)[0]) for idler in idlers]
                polled = None
                if poller is not None:
                    polled = json.loads(poller.communicate("stop\n", timeout=60)[0])
                if any(worker.returncode for worker in workers):
                    log = (first.data_dir / "server.log").read_text(errors="replace")
                    raise SystemExit(f"a worker failed; the server's log ends:\n{log[-20000:]}")
                reports = [json.loads(output) for output in outputs]
                job = (
                    job_pb2_grpc.JobServiceStub(channel)
                    .GetJob(job_pb2.GetJobRequest(job_id=job_id), metadata=submitter)
                    .job
                )
        finally:
            for process in [poller, *idlers]:
                if process is not None and process.poll() is None:
                    process.kill()
            for replica in replicas:
                benchkit.stop_server(replica.process)
            if redis_process is not None:
                redis_process.kill()
                redis_process.wait()
    completed = sum(report["completed"] for report in reports)
    if job.tasks_done != args.tasks or completed != args.tasks:
        raise SystemExit(f"bench incomplete: job has {job.tasks_done} done, workers {completed}")
    ray_rate = ray_noop_rate(args.ray_python, args.ray_script, args.tasks) if with_ray else None
    latencies = [ms for report in reports for ms in report["lease_ms"]]
    moved = [
        {name: after[name] - before[name] for name in before}
        for before, after in zip(work_before, work_after, strict=True)
    ]

    def per_task(name: str, scale: float = 1.0, digits: int = 2) -> float:
        return round(sum(m[name] for m in moved) * scale / args.tasks, digits)

    numbers: dict[str, object] = {
        "leased_by_replica": [int(m["leased"]) for m in moved],
        "db_statements_per_task": round(
            sum(m[kind] for m in moved for kind in DB_KINDS) / args.tasks, 2
        ),
        "db_statements_by_kind_per_task": {kind: per_task(kind, digits=3) for kind in DB_KINDS},
        "db_rows_written_per_task": per_task("rows_written"),
        "db_lock_wait_ms_per_task": per_task("lock_wait_s", 1000, 3),
        "db_retries_per_task": per_task("retries", digits=4),
        # Lease transactions, whether they found work or not (an idle node's, woken up).
        "lease_transactions_per_task": per_task("lease_transactions", digits=4),
    }
    if args.idle_nodes:
        numbers["idle_nodes"] = args.idle_nodes
        numbers["idle_lease_calls"] = sum(report["calls"] for report in idled)
    if sampler is not None:
        waits = {event: round(s * 1000 / args.tasks, 3) for event, s in sampler.seconds.items()}
        numbers["pg_lock_wait_ms_per_task"] = round(
            sum(sampler.seconds.values()) * 1000 / args.tasks, 3
        )
        numbers["pg_lock_waits_by_event"] = waits
    if ray_rate is not None:
        numbers["ray_tasks_per_s"] = round(ray_rate, 1)
        numbers["ratio"] = round(args.tasks / seconds / ray_rate, 2)
    if polled is not None:
        numbers |= {
            "web_requests": len(polled["metrics_ms"]) + len(polled["page_ms"]),
            "web_errors": polled["errors"],
            "metrics_p50_ms": round(benchkit.percentile(polled["metrics_ms"], 0.5), 2),
            "page_p50_ms": round(benchkit.percentile(polled["page_ms"], 0.5), 2),
        }
    return {
        "database": "postgresql" if args.database_url else "sqlite",
        "replicas": args.replicas,
        "redis": bool(redis_url),
        "dashboard": args.dashboard,
        "tasks": args.tasks,
        "workers": args.workers,
        "seconds": round(seconds, 3),
        "tasks_per_s": round(args.tasks / seconds, 1),
        # The servers' own CPU time for the run (user + system): what the dashboard
        # costs it shows here even when other programs make the wall time noisy.
        "server_cpu_s": round(cpu_seconds, 2),
        "server_cpu_ms_per_task": round(cpu_seconds * 1000 / args.tasks, 3),
        "lease_p50_ms": round(statistics.median(latencies), 2),
        "lease_p99_ms": round(benchkit.percentile(latencies, 0.99), 2),
        "paid_ucpt": job.cost_ucpt,
        **numbers,
    }


if __name__ == "__main__":
    main()
