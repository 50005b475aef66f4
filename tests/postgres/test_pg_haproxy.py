"""Replicas behind one address: HAProxy (Debian's) run with packaging/server/haproxy.cfg as
shipped, ending TLS and speaking gRPC over HTTP/2 to two replicas on loopback. Clients know
only HAProxy's address; a worker long-polls through it; one replica is SIGKILLed mid-run
and the job still ends with every result right and every payout made once. Replicas that
trust HAProxy see each client's own address through it, and nobody else can name one."""

from __future__ import annotations

import asyncio
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from sqlalchemy import select

from proto.hivemind.v1 import common_pb2
from server.store.schema import nodes
from tests.kit.accounts import PASSWORD
from tests.kit.certificates import issue_server_cert, make_authority
from tests.kit.ci import unavailable
from tests.kit.loopback_networks import Network, Relay
from tests.kit.network import download_results, job_detail, submit, wait_for_job, write_package
from tests.kit.paths import REPO_ROOT
from tests.kit.replicas import start_replicas
from tests.kit.servers import free_port
from tests.kit.stubs import Stubs, register_node
from tests.postgres.test_pg_scale_out import (
    TASK_CODE,
    assert_each_task_ran_once,
    audit_ledger,
    check_results,
)

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

CONFIG = REPO_ROOT / "packaging" / "server" / "haproxy.cfg"


class HAProxy:
    def __init__(self, work_dir: Path, replicas: list[str], web_ports: list[int]) -> None:
        authority = make_authority("haproxy")
        cert = issue_server_cert(authority, work_dir)
        self.ca_file = authority.write(work_dir)
        pem = work_dir / "haproxy.pem"
        pem.write_bytes(cert.cert_file.read_bytes() + cert.key_file.read_bytes())
        pem.chmod(0o600)
        self.port = free_port()
        env = {
            "PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
            "HIVEMIND_PUBLIC": f"127.0.0.1:{self.port}",
            "HIVEMIND_TLS_PEM": str(pem),
            "HIVEMIND_REPLICA_A": replicas[0],
            "HIVEMIND_REPLICA_B": replicas[1],
            # Where HAProxy asks each replica's /readyz.
            "HIVEMIND_REPLICA_A_WEB_PORT": str(web_ports[0]),
            "HIVEMIND_REPLICA_B_WEB_PORT": str(web_ports[1]),
        }
        self.log = work_dir / "haproxy.log"
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(
                ["haproxy", "-db", "-f", str(CONFIG)], env=env, stdout=log, stderr=log
            )

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def wait_listening(self, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"haproxy did not start:\n{self.log.read_text()}") from None
                time.sleep(0.05)

    async def wait_for_log(self, text: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.log.read_text():
            if time.monotonic() > deadline:
                raise AssertionError(f"haproxy never logged {text!r}:\n{self.log.read_text()}")
            await asyncio.sleep(0.1)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@pytest.fixture
def haproxy(tmp_path: Path) -> Iterator[type[HAProxy]]:
    if shutil.which("haproxy") is None:
        unavailable("HAProxy", "haproxy is not installed (apt install haproxy)")
    started: list[HAProxy] = []

    def start(replicas: list[str], web_ports: list[int]) -> HAProxy:
        proxy = HAProxy(tmp_path, replicas, web_ports)
        started.append(proxy)
        proxy.wait_listening()
        return proxy

    yield start  # type: ignore[misc]
    for proxy in started:
        proxy.stop()


async def test_replicas_behind_haproxy_are_one_address(
    server_process, server_database, redis_url, haproxy, network, tmp_path
):
    a, b = await start_replicas(server_process, tmp_path, 2, redis_url, server_database, web=True)
    proxy = haproxy([a.address, b.address], [_port(a.web_address), _port(b.web_address)])

    async def home(name: str, user: str):
        someone = await network.person(proxy.address, name, register=False)
        someone.settings.update(tls=True, ca_file=str(proxy.ca_file))
        if user == name:
            await someone.session.register(user, PASSWORD)
        else:
            await someone.session.login(user, PASSWORD)
        return someone

    alice = await home("alice", "alice")
    # Two machines of one contributor (so no spot checks: each task runs once).
    workers = [await home("bob", "bob"), await home("bob-2", "bob")]
    tasks = 10
    package = write_package(tmp_path / "squares", TASK_CODE, tasks=tasks)
    job = await submit(alice, package, tasks=tasks)
    for worker in workers:
        network.start_worker(worker)
    while (await job_detail(alice, job.job_id)).job.tasks_done < 3:
        await asyncio.sleep(0.1)
    await a.kill()

    ended = await wait_for_job(alice, job.job_id, timeout=120)
    assert ended.state == common_pb2.JOB_STATE_DONE
    assert_each_task_ran_once(b, tasks)
    report = audit_ledger(b)
    assert report.ok, report.problems
    await a.start()  # what was stored only on A is served again (through HAProxy and B)
    await download_results(alice, job.job_id, tmp_path / "results")
    check_results(tmp_path / "results", tasks)


async def test_replicas_see_each_client_behind_haproxy_and_no_forged_one(
    make_server, user_session, haproxy
):
    server = await make_server(trusted_proxies="127.0.0.1", http_listen="127.0.0.1:0")
    proxy = haproxy([server.address, server.address], [server.http_port, server.http_port])
    alice = await user_session(server, "alice")
    forged = ("x-forwarded-for", "203.0.113.9")
    relays: list[Relay] = []

    async def node_from(network: Network, name: str, through_proxy: bool) -> str:
        target = proxy.address if through_proxy else server.address
        relay = await Relay(target, network.machine()).start()
        relays.append(relay)
        if through_proxy:
            credentials = grpc.ssl_channel_credentials(Path(proxy.ca_file).read_bytes())
            channel = grpc.aio.secure_channel(relay.address, credentials)
        else:
            channel = grpc.aio.insecure_channel(relay.address)
        async with channel:
            node = await register_node(Stubs(channel), (*alice.metadata, forged), name)
        return node.node_id

    home, office, elsewhere = Network(), Network(), Network()
    try:
        registered = {
            await node_from(home, "home", through_proxy=True): home.cidr,
            await node_from(office, "office", through_proxy=True): office.cidr,
            # Straight to the replica: its header is not believed (it is no trusted proxy).
            await node_from(elsewhere, "direct", through_proxy=False): elsewhere.cidr,
        }
    finally:
        for relay in relays:
            await relay.close()
    seen = await server.ctx.db.run(
        lambda conn: dict(conn.execute(select(nodes.c.id, nodes.c.network)).all())
    )
    # Each node is on its own machine's network: not HAProxy's (127.0.0.0/24), and not the
    # address a client wrote into its own x-forwarded-for header.
    assert seen == registered


async def test_a_frozen_replica_is_taken_out_of_haproxy(
    server_process, server_database, redis_url, haproxy, tmp_path
):
    """A replica that hangs (SIGSTOP) still has its connections accepted by the kernel, so
    only asking it (/readyz) tells HAProxy to stop sending it calls."""
    a, b = await start_replicas(server_process, tmp_path, 2, redis_url, server_database, web=True)
    proxy = haproxy([a.address, b.address], [_port(a.web_address), _port(b.web_address)])
    credentials = grpc.ssl_channel_credentials(Path(proxy.ca_file).read_bytes())

    async def calls_answered(count: int) -> int:
        """Of `count` calls made one after another through HAProxy, those answered within
        a few seconds; each on a new connection, so HAProxy picks a replica for each."""
        answered = 0
        for _ in range(count):
            async with grpc.aio.secure_channel(proxy.address, credentials) as channel:
                health = health_pb2_grpc.HealthStub(channel)
                try:
                    await health.Check(health_pb2.HealthCheckRequest(), timeout=3)
                    answered += 1
                except grpc.aio.AioRpcError as error:
                    assert error.code() == grpc.StatusCode.DEADLINE_EXCEEDED
        return answered

    assert await calls_answered(4) == 4
    assert a.process is not None
    a.process.send_signal(signal.SIGSTOP)
    try:
        # Two checks that get no answer in 2 s: out.
        await proxy.wait_for_log("replica-a is DOWN", timeout=15)
        assert await calls_answered(6) == 6
    finally:
        a.process.send_signal(signal.SIGCONT)
    await proxy.wait_for_log("replica-a is UP", timeout=15)
    assert await calls_answered(4) == 4


def _port(address: str) -> int:
    return int(address.rsplit(":", 1)[1])
