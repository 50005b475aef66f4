"""Home networks for real: two workers, each in a network namespace of its own behind a home
router that NATs it (iptables MASQUERADE, and no way in for connections from outside, as a
home router has), both homes on 192.168.1.0/24, reach the server through a namespace that
stands for the internet. They complete a job whose package and results travel by
BitTorrent: the workers dial out, the server never dials them (it pulls each result over the
connection the worker opened), and when a worker is told of the other as a peer, the dial
into the other home goes nowhere and it falls back to the server's seeder at once. No VPN.

The test creates the namespaces and their veth links, talks only to the addresses it gave
them, routes nothing off the machine (the "internet" namespace has no default route), and
removes everything afterwards, whatever happened. Needs root, ip and iptables.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from proto.hivemind.v1 import common_pb2
from tests.kit.accounts import PASSWORD
from tests.kit.auditor import query
from tests.kit.ci import unavailable
from tests.kit.client_cli import run_in_thread
from tests.kit.network import download_results, submit, wait_for_job
from tests.kit.paths import REPO_ROOT, python_env
from tests.kit.servers import ServerProcess, free_port

pytestmark = [pytest.mark.torrent, pytest.mark.slow]

PREFIX = "hmnat"
RESULT_BYTES = 1536 * 1024  # above the 1 MiB from which results go by BitTorrent
TASK_CODE = f"""
import hashlib, os, pathlib
index = int(os.environ["HIVEMIND_TASK_INDEX"])
data = pathlib.Path(os.environ["HIVEMIND_TASK_DIR"], "data.bin").read_bytes()
seed = hashlib.sha256(data + bytes([index])).digest()
# Deterministic (spot checks re-run tasks and compare) and incompressible (the packed result
# stays above the size from which it goes by BitTorrent).
blocks = (hashlib.sha256(seed + i.to_bytes(4, "big")).digest() for i in range({RESULT_BYTES} // 32))
pathlib.Path(os.environ["HIVEMIND_OUTPUT"], "out.bin").write_bytes(b"".join(blocks))
"""


def sh(*argv: str) -> str:
    done = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed: {done.stderr.strip()}")
    return done.stdout


def netns_problem() -> str | None:
    if os.geteuid() != 0:
        return "network namespaces need root"
    for tool in ("ip", "iptables"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed (apt install iproute2 iptables)"
    return None


def free_prefix() -> str:
    """A 10.x /16 that no address or route of this machine touches."""
    used = sh("ip", "-4", "addr") + sh("ip", "-4", "route")
    for second in range(200, 250):
        if f"10.{second}." not in used:
            return f"10.{second}"
    raise RuntimeError("no free 10.x.0.0/16 for the test networks")


@dataclass
class Homes:
    """The namespaces: `inet` (the internet), and per home a router and the home itself."""

    tag: str
    prefix: str
    namespaces: list[str] = field(default_factory=list)
    root_link: str = ""

    @property
    def server_ip(self) -> str:
        return f"{self.prefix}.0.1"

    def home(self, k: int) -> str:
        return f"{PREFIX}-{self.tag}-h{k}"

    def router_wan(self, k: int) -> str:
        return f"{self.prefix}.{k}.2"

    def in_ns(self, ns: str, *argv: str) -> str:
        return sh("ip", "netns", "exec", ns, *argv)

    def _ns(self, name: str) -> str:
        ns = f"{PREFIX}-{self.tag}-{name}"
        sh("ip", "netns", "add", ns)
        self.namespaces.append(ns)
        sh("ip", "-n", ns, "link", "set", "lo", "up")
        return ns

    def _link(self, ns_a: str | None, name_a: str, ns_b: str, name_b: str) -> None:
        """A veth pair: `name_a` in `ns_a` (None: this namespace), `name_b` in `ns_b`."""
        tmp_a, tmp_b = f"{PREFIX}{secrets.token_hex(3)}", f"{PREFIX}{secrets.token_hex(3)}"
        sh("ip", "link", "add", tmp_a, "type", "veth", "peer", "name", tmp_b)
        sh("ip", "link", "set", tmp_b, "netns", ns_b)
        sh("ip", "-n", ns_b, "link", "set", tmp_b, "name", name_b)
        if ns_a is None:
            sh("ip", "link", "set", tmp_a, "name", name_a)
        else:
            sh("ip", "link", "set", tmp_a, "netns", ns_a)
            sh("ip", "-n", ns_a, "link", "set", tmp_a, "name", name_a)

    def _addr(self, ns: str | None, dev: str, cidr: str) -> None:
        where = ["-n", ns] if ns else []
        sh("ip", *where, "addr", "add", cidr, "dev", dev)
        sh("ip", *where, "link", "set", dev, "up")

    def _forward(self, ns: str) -> None:
        self.in_ns(ns, "sh", "-c", "echo 1 > /proc/sys/net/ipv4/ip_forward")

    def build(self) -> None:
        p = self.prefix
        inet = self._ns("inet")
        self._forward(inet)  # namespaced: the machine's own forwarding stays as it is
        self.root_link = f"{PREFIX}-{self.tag}"
        self._link(None, self.root_link, inet, "up0")
        self._addr(None, self.root_link, f"{p}.0.1/24")
        self._addr(inet, "up0", f"{p}.0.2/24")
        # Only our /16 goes to the test networks; the internet namespace has no default route.
        sh("ip", "route", "add", f"{p}.0.0/16", "via", f"{p}.0.2", "dev", self.root_link)
        for k in (1, 2):
            router, home = self._ns(f"r{k}"), self._ns(f"h{k}")
            self._link(inet, f"home{k}", router, "wan")
            self._addr(inet, f"home{k}", f"{p}.{k}.1/24")
            self._addr(router, "wan", f"{p}.{k}.2/24")
            sh("ip", "-n", router, "route", "add", "default", "via", f"{p}.{k}.1")
            self._link(router, "lan", home, "eth0")
            self._addr(router, "lan", "192.168.1.1/24")
            self._addr(home, "eth0", "192.168.1.2/24")
            sh("ip", "-n", home, "route", "add", "default", "via", "192.168.1.1")
            self._forward(router)
            # A home router: everything out looks as if it came from the router, and
            # nothing comes in that the home did not start.
            nat = ["iptables", "-w"]
            self.in_ns(router, *nat, "-t", "nat", "-A", "POSTROUTING", "-o", "wan",
                       "-j", "MASQUERADE")  # fmt: skip
            self.in_ns(router, *nat, "-A", "FORWARD", "-i", "wan", "-o", "lan", "-m",
                       "conntrack", "--ctstate", "ESTABLISHED,RELATED", "-j", "ACCEPT")  # fmt: skip
            self.in_ns(router, *nat, "-A", "FORWARD", "-i", "wan", "-j", "DROP")

    def remove(self) -> None:
        for ns in reversed(self.namespaces):
            remove_namespace(ns)
        if self.root_link:
            with contextlib.suppress(RuntimeError):  # gone with its peer already
                sh("ip", "link", "del", self.root_link)


def remove_namespace(ns: str) -> None:
    """Kills what still runs in it, then deletes it (and the veth ends and iptables rules
    inside it)."""
    with contextlib.suppress(RuntimeError):
        for pid in sh("ip", "netns", "pids", ns).split():
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(pid), signal.SIGKILL)
    with contextlib.suppress(RuntimeError):
        sh("ip", "netns", "del", ns)


@pytest.fixture
def homes() -> Iterator[Homes]:
    problem = netns_problem()
    if problem:
        unavailable("network namespace", problem)
    # Leftovers of a run that was killed outright (nothing runs in them any more).
    for line in sh("ip", "netns", "list").splitlines():
        name = line.split()[0] if line.split() else ""
        if name.startswith(f"{PREFIX}-") and not sh("ip", "netns", "pids", name).strip():
            remove_namespace(name)
    built = Homes(secrets.token_hex(2), free_prefix())
    try:
        built.build()
        yield built
    finally:
        built.remove()
        left = [
            n for n in sh("ip", "netns", "list").split() if n.startswith(f"{PREFIX}-{built.tag}")
        ]
        assert not left, f"namespaces left behind: {left}"


def worker_home(root: Path, name: str, server: str) -> Path:
    home = root / name
    home.mkdir(parents=True)
    # Plaintext to a non-loopback server must be asked for (the test network is private).
    (home / "settings.json").write_text(json.dumps({"server": server, "insecure": True}))
    return home


async def cli(home: Path, *argv: str, stdin: str = "") -> None:
    result = await asyncio.to_thread(run_in_thread, [*argv, "--home", str(home)], stdin)
    assert result.code == 0, result.stderr


def start_worker(homes: Homes, k: int, home: Path, log: Path) -> subprocess.Popen[bytes]:
    env = python_env(HIVEMIND_HOME=str(home), HIVEMIND_KEYRING="file")
    with open(log, "wb") as out:
        return subprocess.Popen(
            ["ip", "netns", "exec", homes.home(k), sys.executable, "-m", "app.cli.main",
             "worker", "run", "--executor", "process", "--name", f"home-{k}", "--max-tasks", "1",
             "--home", str(home)],
            cwd=REPO_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip


async def test_workers_behind_nat_complete_a_job_by_bittorrent(homes, network, tmp_path):
    server = ServerProcess(
        ["run", "--data-dir", str(tmp_path / "server"), "--listen",
         f"{homes.server_ip}:{free_port()}", "--insecure"],
        tmp_path / "server.log", data_dir=tmp_path / "server",
    )  # fmt: skip
    workers: list[subprocess.Popen[bytes]] = []
    try:
        await server.start()
        address = server.address
        for k, name in ((1, "bob"), (2, "carol")):
            home = worker_home(tmp_path / "homes", name, address)
            await cli(home, "account", "register", "-u", name, "--password-stdin", stdin=PASSWORD)
            workers.append(start_worker(homes, k, home, tmp_path / f"worker-{k}.log"))

        alice = await network.person(address, "alice", register=False)
        alice.settings.update(insecure=True)
        await alice.session.register("alice", PASSWORD)
        package = tmp_path / "package"
        package.mkdir()
        (package / "hivemind.toml").write_text(
            '[job]\nname = "nat"\nruntime = "python-3.11"\ncommand = ["python3", "main.py"]\n'
        )
        (package / "main.py").write_text(TASK_CODE)
        (package / "data.bin").write_bytes(secrets.token_bytes(2 * 1024 * 1024))
        tasks = 4
        job = await submit(alice, package, tasks=tasks)
        ended = await wait_for_job(alice, job.job_id, timeout=180)
        assert ended.state == common_pb2.JOB_STATE_DONE, ended
        results = await download_results(alice, job.job_id, tmp_path / "results")
        assert len(results.results) == tasks
        for index in range(tasks):
            assert (tmp_path / "results" / str(index) / "out.bin").stat().st_size == RESULT_BYTES
    finally:
        for worker in workers:
            worker.send_signal(signal.SIGTERM)
        for worker in workers:
            try:
                worker.wait(20)
            except subprocess.TimeoutExpired:
                worker.kill()
        await server.stop()

    # The server saw each home as its router's address, never 192.168.1.2 (NAT at work).
    seen = query(tmp_path / "server" / "hivemind.db", "SELECT name, bt_endpoint FROM nodes")
    hosts = {name: endpoint.rpartition(":")[0] for name, endpoint in seen}
    assert hosts == {"home-1": homes.router_wan(1), "home-2": homes.router_wan(2)}, seen
    # Every result came by BitTorrent, pulled over connections the workers opened.
    server_log = server.log()
    assert server_log.count("result pulled by bittorrent") == tasks, server_log[-3000:]
    # Each worker fetched the package by BitTorrent. One told of the other home as a peer
    # found it unreachable (NAT lets nothing in) and took the server's seeder instead.
    logs = [(tmp_path / f"worker-{k}.log").read_text() for k in (1, 2)]
    for log in logs:
        assert "fetching by bittorrent" in log
        assert "falling back to gRPC" not in log and "uploading it over gRPC" not in log, log
    told_of_the_other = [log for log in logs if "node_peers=1" in log]
    assert told_of_the_other, logs
    assert all("adding reserve peers" in log for log in told_of_the_other)
