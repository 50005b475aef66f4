"""Heartbeat capacity: many idle nodes beating (and leasing, as idle workers do) against one
server, and how long a beat takes.

A real server subprocess on a fresh data dir (SQLite, or --database-url on PostgreSQL), with
Redis (--redis: a redis-server started for the run; or --redis-url) or without. --nodes
nodes are registered through RegisterNode, split over --clients client processes; each node
then beats every --interval seconds at its own phase and, between beats, keeps a LeaseTasks
call open the way an idle worker does (a long-poll of --lease-wait seconds; 0 = the old way,
asking every 5 s). Nothing is submitted, so no lease is granted: the network is idle, which
is when a large network is largest.

After one beat interval of warm-up, beat latencies (as the client sees them) are collected
for --duration seconds, and the server process's CPU time over the same window.

Prints ONE JSON line: nodes, interval_s, duration_s, redis, database, beats, beat_p50_ms,
beat_p99_ms, beat_errors, beat_error_codes and lease_error_codes (gRPC status -> count),
error_examples (status -> the first such error's details and how long its call took),
lease_calls_per_s, server_cpu_percent (100 = one core busy), client_cpu_percent (each client
process's) and clients_saturated (one over 80%: the clients, not the server, may set the
pace; use more --clients), load_avg_1m (the machine's, at the end: other work on it slows
everything).
Run: .venv/bin/python bench/heartbeats.py --nodes 10000 --interval 30 [--redis]
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import benchkit
import grpc

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from proto.hivemind.v1 import auth_pb2, auth_pb2_grpc, node_pb2, node_pb2_grpc  # noqa: E402

PASSWORD = "bench password 1"
REGISTER_CONCURRENCY = 32
CHANNELS_PER_CLIENT = 4
POLL_S = 5.0  # an idle worker without long-polls asks this often (at most)
CLIENT_SATURATED = 80.0  # a client process this busy (% of a core) may be what sets the pace


# -- one client process: its share of the nodes ----------------------------------------------


async def client(
    address: str, token: str, count: int, index: int, args: argparse.Namespace
) -> None:
    channels = [grpc.aio.insecure_channel(address) for _ in range(CHANNELS_PER_CLIENT)]
    stubs = [node_pb2_grpc.NodeServiceStub(channel) for channel in channels]
    user = (("authorization", f"Bearer {token}"),)
    gate = asyncio.Semaphore(REGISTER_CONCURRENCY)

    async def register(i: int) -> tuple:
        async with gate:
            reply = await stubs[i % len(stubs)].RegisterNode(
                node_pb2.RegisterNodeRequest(
                    name=f"bench-{index}-{i}",
                    hardware=node_pb2.Hardware(cores=4, memory_mb=8192, disk_mb=50_000),
                    executors=["process"],
                ),
                metadata=user,
            )
        return (("authorization", f"Node {reply.node_id}.{reply.node_secret}"),)

    nodes = await asyncio.gather(*(register(i) for i in range(count)))
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)

    started = time.monotonic()
    measure_from = started + args.interval  # one beat interval of warm-up
    stop_at = measure_from + args.duration
    latencies: list[float] = []
    errors: collections.Counter[str] = collections.Counter()
    lease_calls = 0
    lease_errors: collections.Counter[str] = collections.Counter()
    examples: dict[str, str] = {}  # status -> the first error's details
    seeds = [uuid.uuid4().hex * 2 for _ in range(args.seeds)]

    async def beat_loop(i: int, metadata: tuple) -> None:
        nonlocal errors
        stub = stubs[i % len(stubs)]
        request = node_pb2.HeartbeatRequest(
            usage=node_pb2.Usage(cpu_percent=3.0, memory_used_mb=2048, free_cores=4),
            seeding_digests=seeds,
            bt_endpoint=":6881",
        )
        await asyncio.sleep(random.uniform(0, args.interval))
        while time.monotonic() < stop_at:
            began = time.monotonic()
            try:
                await stub.Heartbeat(request, metadata=metadata, timeout=30)
                if began >= measure_from:
                    latencies.append((time.monotonic() - began) * 1000)
            except grpc.aio.AioRpcError as error:
                if began >= measure_from and time.monotonic() < stop_at:  # not cut short by us
                    errors[error.code().name] += 1
                    took = f"after {time.monotonic() - began:.1f} s"
                    examples.setdefault(error.code().name, f"{error.details()} ({took})")
            await asyncio.sleep(max(0.0, args.interval - (time.monotonic() - began)))

    async def lease_loop(i: int, metadata: tuple) -> None:
        nonlocal lease_calls
        stub = stubs[i % len(stubs)]
        request = node_pb2.LeaseTasksRequest(
            free_cores=4,
            free_memory_mb=8192,
            free_disk_mb=50_000,
            max_tasks=4,
            wait_ms=int(args.lease_wait * 1000),
        )
        # Idle workers of a real network asked last at unrelated moments.
        await asyncio.sleep(random.uniform(0, max(args.lease_wait, POLL_S)))
        while time.monotonic() < stop_at:
            began = time.monotonic()
            try:
                await stub.LeaseTasks(request, metadata=metadata, timeout=args.lease_wait + 30)
            except grpc.aio.AioRpcError as error:
                if began >= measure_from and time.monotonic() < stop_at:  # not cut short by us
                    lease_errors[error.code().name] += 1
                    took = f"after {time.monotonic() - began:.1f} s"
                    examples.setdefault(error.code().name, f"{error.details()} ({took})")
            if began >= measure_from:
                lease_calls += 1
            if time.monotonic() - began < max(args.lease_wait / 2, 0.01):
                await asyncio.sleep(POLL_S)  # answered at once: ask again later

    loops = [beat_loop(i, metadata) for i, metadata in enumerate(nodes)]
    loops += [lease_loop(i, metadata) for i, metadata in enumerate(nodes)]
    tasks = [asyncio.create_task(loop) for loop in loops]
    await asyncio.sleep(max(0.0, measure_from - time.monotonic()))
    cpu_before = time.process_time()
    await asyncio.sleep(max(0.0, stop_at - time.monotonic()))
    cpu_percent = 100 * (time.process_time() - cpu_before) / args.duration
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    for channel in channels:
        await channel.close(grace=None)
    report = {"beat_ms": latencies, "errors": errors, "lease_calls": lease_calls}
    report["lease_errors"] = lease_errors
    report["examples"] = examples
    print(json.dumps(report | {"cpu_percent": cpu_percent}))


# -- the run -----------------------------------------------------------------------------------


def start_server(data_dir: Path, port: int, args: argparse.Namespace, redis_url: str):
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT))
    env = {k: v for k, v in env.items() if not k.startswith("HIVEMIND_SERVER_")}
    # By environment, not argv: URLs may hold passwords.
    env["HIVEMIND_SERVER_DATABASE_URL"] = args.database_url
    env["HIVEMIND_SERVER_REDIS_URL"] = redis_url
    env["HIVEMIND_SERVER_REDIS_NAMESPACE"] = f"bench-{uuid.uuid4().hex[:8]}"
    env["HIVEMIND_SERVER_HEARTBEAT_INTERVAL_S"] = str(int(args.interval))
    env["HIVEMIND_SERVER_NODE_OFFLINE_AFTER_S"] = str(int(args.interval * 3))
    env["HIVEMIND_SERVER_LEASE_WAIT_MAX_S"] = str(max(args.lease_wait, 0.1))
    env["HIVEMIND_SERVER_BITTORRENT"] = "false"
    log = open(data_dir / "server.log", "wb")  # noqa: SIM115 - lives as long as the server
    process = subprocess.Popen(
        [sys.executable, "-m", "server", "run", "--data-dir", str(data_dir),
         "--listen", f"127.0.0.1:{port}"],
        cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    try:
        grpc.channel_ready_future(channel).result(timeout=30)
    except grpc.FutureTimeoutError:
        process.kill()
        raise SystemExit((data_dir / "server.log").read_text()) from None
    finally:
        channel.close()
    return process


def cpu_seconds(pid: int) -> float:
    import psutil

    times = psutil.Process(pid).cpu_times()
    return times.user + times.system


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=10_000)
    parser.add_argument("--interval", type=float, default=30.0, help="seconds between beats")
    parser.add_argument("--duration", type=float, default=60.0, help="measured seconds")
    parser.add_argument("--clients", type=int, default=2, help="client processes")
    parser.add_argument("--lease-wait", type=float, default=20.0, help="long-poll s (0: poll)")
    parser.add_argument("--seeds", type=int, default=0, help="digests each node says it seeds")
    parser.add_argument("--redis", action="store_true", help="start a redis-server for the run")
    parser.add_argument("--redis-url", default="", help="an existing Redis (a fresh namespace)")
    parser.add_argument("--database-url", default="", help="PostgreSQL URL; default SQLite")
    parser.add_argument("--client", nargs=4, metavar="X", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.client:
        address, token, count, index = args.client
        asyncio.run(client(address, token, int(count), int(index), args))
        return

    with tempfile.TemporaryDirectory(prefix="hivemind-beats-") as tmp:
        work = Path(tmp)
        redis_process, redis_url = None, args.redis_url
        if args.redis and not redis_url:
            redis_process, redis_url = benchkit.start_redis(work)
        port = benchkit.free_port()
        address = f"127.0.0.1:{port}"
        server = start_server(work, port, args, redis_url)
        clients: list[subprocess.Popen] = []
        try:
            with grpc.insecure_channel(address) as channel:
                auth = auth_pb2_grpc.AuthServiceStub(channel)
                tokens = [
                    auth.Register(
                        auth_pb2.RegisterRequest(username=f"owner{i}", password=PASSWORD)
                    ).access_token
                    for i in range(args.clients)
                ]
            env = dict(os.environ, PYTHONPATH=str(REPO_ROOT))
            shares = [args.nodes // args.clients + (i < args.nodes % args.clients)
                      for i in range(args.clients)]  # fmt: skip
            for i, (token, count) in enumerate(zip(tokens, shares, strict=True)):
                command = [sys.executable, __file__, "--interval", str(args.interval),
                           "--duration", str(args.duration), "--lease-wait", str(args.lease_wait),
                           "--seeds", str(args.seeds), "--client", address, token, str(count),
                           str(i)]  # fmt: skip
                clients.append(
                    subprocess.Popen(
                        command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, text=True
                    )
                )
            for proc in clients:
                assert proc.stdout is not None
                if proc.stdout.readline() != "ready\n":
                    raise SystemExit("a client failed while registering nodes")
            for proc in clients:
                assert proc.stdin is not None
                proc.stdin.write("go\n")
                proc.stdin.flush()
            time.sleep(args.interval)
            cpu_before, wall_before = cpu_seconds(server.pid), time.monotonic()
            time.sleep(args.duration)
            cpu_after, wall_after = cpu_seconds(server.pid), time.monotonic()
            reports = [json.loads(proc.communicate()[0]) for proc in clients]
        finally:
            for proc in clients:
                if proc.poll() is None:
                    proc.kill()
            server.terminate()
            server.wait(timeout=30)
            if redis_process is not None:
                redis_process.kill()
    latencies = [ms for report in reports for ms in report["beat_ms"]]
    print(
        json.dumps(
            {
                "nodes": args.nodes,
                "interval_s": args.interval,
                "duration_s": args.duration,
                "redis": bool(redis_url),
                "database": "postgresql" if args.database_url else "sqlite",
                "lease_wait_s": args.lease_wait,
                "beats": len(latencies),
                "beat_p50_ms": benchkit.percentile(latencies, 0.5),
                "beat_p99_ms": benchkit.percentile(latencies, 0.99),
                "beat_errors": sum(sum(report["errors"].values()) for report in reports),
                "beat_error_codes": dict(
                    sum((collections.Counter(r["errors"]) for r in reports), collections.Counter())
                ),
                "lease_error_codes": dict(
                    sum(
                        (collections.Counter(r["lease_errors"]) for r in reports),
                        collections.Counter(),
                    )
                ),
                "error_examples": {k: v for r in reports for k, v in r["examples"].items()},
                "lease_calls_per_s": round(
                    sum(report["lease_calls"] for report in reports) / args.duration, 1
                ),
                "server_cpu_percent": round(
                    100 * (cpu_after - cpu_before) / (wall_after - wall_before), 1
                ),
                # Each client process's CPU (100 = one core): near 100, the clients, not the
                # server, set the pace, and the latencies are the clients' own.
                "client_cpu_percent": [round(r["cpu_percent"], 1) for r in reports],
                "clients_saturated": any(r["cpu_percent"] > CLIENT_SATURATED for r in reports),
                "load_avg_1m": round(os.getloadavg()[0], 2),
            }
        )
    )


if __name__ == "__main__":
    main()
