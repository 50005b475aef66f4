"""The demo: a whole network on this machine, for a minute, then gone.

A server subprocess on a free loopback port with a temporary data dir; a submitter (alice)
and two contributors (bob, carol), each with their own temporary HiveMind home; two worker
agents (Docker when the daemon and the runtime image are here, else the process executor);
alice submits examples/pi, the workers run it, alice downloads and merges the results; then
every balance is read to show that what alice paid is what bob and carol earned plus what was
refunded: the total granted is conserved. Nothing outside the temporary folder is touched.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import os
import secrets
import shutil
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.services.client import ClientSession
from app.services.credentials import CredentialStore
from app.services.demo_server import DemoError, ServerProcess
from app.services.executors.base import Executor
from app.services.package import build_package_zip, load_package
from app.services.settings import SettingsStore
from app.services.torrent.fetch import TorrentFetcher, open_torrents
from app.services.transfer import download_artifact, upload_file
from app.services.unpack import safe_extract
from app.services.worker import WorkerAgent, WorkerOptions
from proto.hivemind.v1 import account_pb2, common_pb2, job_pb2

SUBMITTER = "alice"
CONTRIBUTORS = ("bob", "carol")
RUNTIME = "python-3.11"
JOB_ENDED = {common_pb2.JOB_STATE_DONE, common_pb2.JOB_STATE_FAILED, common_pb2.JOB_STATE_CANCELLED}
Status = Callable[[str], None]


@dataclass
class DemoResult:
    pi: float
    job_id: str
    job_state: str
    tasks_total: int
    tasks_done: int
    executor: str
    balances: dict[str, int]  # username -> ucpt after the job
    escrow_ucpt: int  # still held in escrow (0 once the job ended)
    total_granted_ucpt: int
    cost_ucpt: int
    refunded_ucpt: int
    earned: dict[str, int] = field(default_factory=dict)  # contributor -> ucpt earned
    ledger_ok: bool | None = None  # the server's own `admin check-ledger`, when it ran
    notice: str = ""  # why Docker was not used, when it was not
    seconds: float = 0.0

    @property
    def total_ucpt(self) -> int:
        return sum(self.balances.values()) + self.escrow_ucpt

    @property
    def conserved(self) -> bool:
        return self.total_ucpt == self.total_granted_ucpt

    def to_dict(self) -> dict[str, Any]:
        return {
            "pi": self.pi,
            "job_id": self.job_id,
            "job_state": self.job_state,
            "tasks_total": self.tasks_total,
            "tasks_done": self.tasks_done,
            "executor": self.executor,
            "balances": dict(self.balances),
            "earned": dict(self.earned),
            "escrow_ucpt": self.escrow_ucpt,
            "cost_ucpt": self.cost_ucpt,
            "refunded_ucpt": self.refunded_ucpt,
            "total_granted_ucpt": self.total_granted_ucpt,
            "total_ucpt": self.total_ucpt,
            "conserved": self.conserved,
            "ledger_ok": self.ledger_ok,
            "notice": self.notice,
            "seconds": round(self.seconds, 2),
        }


def examples_dir() -> Path:
    """Where examples/ is: $HIVEMIND_EXAMPLES, the frozen app's bundle, or the source tree."""
    candidates = []
    if os.environ.get("HIVEMIND_EXAMPLES"):
        candidates.append(Path(os.environ["HIVEMIND_EXAMPLES"]))
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        candidates.append(Path(bundle) / "examples")
    candidates.append(Path(__file__).resolve().parents[2] / "examples")
    for candidate in candidates:
        if (candidate / "pi" / "hivemind.toml").is_file():
            return candidate
    raise DemoError("cannot find the examples folder (set HIVEMIND_EXAMPLES)")


@dataclass
class Person:
    name: str
    home: Path
    settings: SettingsStore
    credentials: CredentialStore
    session: ClientSession
    torrents: TorrentFetcher | None = None  # a contributor's BitTorrent session


async def _person(root: Path, name: str, server: str) -> Person:
    home = root / "homes" / name
    settings = SettingsStore(home)
    settings.update(server=server)
    # The demo's throw-away identities never go to the system keyring.
    credentials = CredentialStore(home, backend="file")
    session = ClientSession(settings, credentials, server=server)
    await session.register(name, secrets.token_urlsafe(16))
    return Person(name, home, settings, credentials, session)


async def choose_executor(kind: str, instance: str) -> tuple[Executor, str]:
    """(executor, notice): Docker when its daemon and the runtime image are here (or when
    asked for), else the process executor with a notice saying so."""
    if kind in ("auto", "docker"):
        reason = ""
        try:
            from app.services.executors.docker import DockerExecutor

            docker_executor = DockerExecutor(instance=instance)
            availability = await docker_executor.available()
            if not availability:
                reason = availability.reason
            elif RUNTIME not in await asyncio.to_thread(docker_executor.runtimes):
                reason = "the runtime image hivemind/python:3.11 is missing"
            else:
                return docker_executor, ""
        except ImportError as exc:
            reason = f"the Docker executor is not installed ({exc})"
        if kind == "docker":
            raise DemoError(f"cannot use Docker: {reason}")
        notice = f"Docker not used ({reason}): running tasks with the process executor"
    else:
        notice = ""
    from app.services.executors.process import ProcessExecutor

    return ProcessExecutor(), notice


def _load_merge(example: Path) -> Any:
    spec = importlib.util.spec_from_file_location(
        f"hivemind_example_{example.name}", example / "merge.py"
    )
    if spec is None or spec.loader is None:
        raise DemoError(f"cannot load {example / 'merge.py'}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


async def run_demo(
    *,
    tasks: int = 8,
    executor: str = "auto",
    status: Status | None = None,
    progress: Callable[[int, int], None] | None = None,
    timeout_s: float = 300.0,
    keep_dir: Path | None = None,
) -> DemoResult:
    """Runs the whole demo; raises DemoError when a step fails. Everything started is
    stopped and the temporary folder removed (unless `keep_dir` names where to keep it)."""
    say = status or (lambda text: None)
    started = time.monotonic()
    root = Path(keep_dir) if keep_dir else Path(tempfile.mkdtemp(prefix="hivemind-demo-"))
    root.mkdir(parents=True, exist_ok=True)
    server = ServerProcess(root / "server", root / "server.log")
    people: list[Person] = []
    workers: list[asyncio.Task[None]] = []
    agents: list[WorkerAgent] = []
    try:
        address = await server.start()
        say(f"server running on {address} (data in {server.data_dir})")
        for name in (SUBMITTER, *CONTRIBUTORS):
            people.append(await _person(root, name, address))
        alice, contributors = people[0], people[1:]
        say(f"registered {', '.join(p.name for p in people)} (each got the signup grant)")

        notice = ""
        for person in contributors:
            chosen, notice = await choose_executor(
                executor, f"demo-{person.name}-{uuid.uuid4().hex[:6]}"
            )
            person.settings.update_contributor(cores=1, memory_mb=512, executor=chosen.name)
            # Each worker has its own BitTorrent session on loopback (issue 4): the package
            # travels by torrent between them and the local server.
            person.torrents = await open_torrents(
                person.settings, address, listen_interface="127.0.0.1"
            )
            agent = WorkerAgent(
                person.session,
                person.settings,
                chosen,
                person.credentials,
                options=WorkerOptions(name=f"{person.name}-laptop", lease_poll_s=0.3),
                torrents=person.torrents,
            )
            agents.append(agent)
            workers.append(asyncio.create_task(agent.run(), name=f"demo-worker-{person.name}"))
        executor_name = agents[0].executor.name
        if notice:
            say(notice)
        say(f"workers of {' and '.join(p.name for p in contributors)} started ({executor_name})")

        job = await _submit_pi(alice, tasks, root)
        say(f"{alice.name} submitted job {job.job_id}: {job.tasks_total} tasks of examples/pi")
        job = await _wait_for_job(alice, job.job_id, progress, timeout_s, workers)
        state = common_pb2.JobState.Name(job.state).removeprefix("JOB_STATE_").lower()
        say(f"job {state}: {job.tasks_done} of {job.tasks_total} tasks done")

        pi = await _merge_results(alice, job.job_id, root)
        for agent in agents:
            agent.request_stop(drain_timeout_s=0)
        await asyncio.gather(*workers, return_exceptions=True)

        balances: dict[str, int] = {}
        escrow = 0
        for person in people:
            balance = await person.session.account.GetBalance(account_pb2.GetBalanceRequest())
            balances[person.name] = balance.balance_ucpt
            escrow += balance.escrow_ucpt
        rates = await alice.session.account.GetRates(account_pb2.GetRatesRequest())
        granted = rates.signup_grant_ucpt * len(people)
        audit = await server.check_ledger()
        ledger_ok = None
        if audit is not None:
            ledger_ok = bool(audit.get("ok"))
            granted = int(audit.get("total_granted", {}).get("ucpt", granted))
        earned = {p.name: balances[p.name] - rates.signup_grant_ucpt for p in contributors}
        return DemoResult(
            pi=pi,
            job_id=job.job_id,
            job_state=state,
            tasks_total=job.tasks_total,
            tasks_done=job.tasks_done,
            executor=executor_name,
            balances=balances,
            escrow_ucpt=escrow,
            total_granted_ucpt=granted,
            cost_ucpt=job.cost_ucpt,
            refunded_ucpt=job.refunded_ucpt,
            earned=earned,
            ledger_ok=ledger_ok,
            notice=notice,
            seconds=time.monotonic() - started,
        )
    finally:
        for agent in agents:
            agent.request_stop(drain_timeout_s=0)
        if workers:
            await asyncio.gather(*workers, return_exceptions=True)
        for person in people:
            with contextlib.suppress(Exception):
                await person.session.close()
            if person.torrents is not None:
                with contextlib.suppress(Exception):
                    await person.torrents.close()
        await server.stop()
        if keep_dir is None:
            await asyncio.to_thread(shutil.rmtree, root, True)


async def _submit_pi(alice: Person, tasks: int, root: Path) -> job_pb2.Job:
    package = await asyncio.to_thread(load_package, examples_dir() / "pi")
    spec = package.spec
    archive = await asyncio.to_thread(build_package_zip, package.source, root / "pi.zip")
    info = await upload_file(
        alice.session.artifacts, archive, common_pb2.ARTIFACT_KIND_PACKAGE, name="pi.zip"
    )
    request = job_pb2.SubmitJobRequest(
        name="demo-pi",
        runtime=spec.runtime,
        command=spec.command,
        package_digest=info.digest,
        task_count=tasks,
        resources=common_pb2.Resources(
            cores=spec.cores,
            memory_mb=spec.memory_mb,
            disk_mb=spec.disk_mb,
            timeout_s=spec.timeout_s,
        ),
        idempotency_key=f"demo:{uuid.uuid4()}",
    )
    return await alice.session.jobs.SubmitJob(request)


async def _wait_for_job(
    alice: Person,
    job_id: str,
    progress: Callable[[int, int], None] | None,
    timeout_s: float,
    workers: list[asyncio.Task[None]],
) -> job_pb2.Job:
    deadline = time.monotonic() + timeout_s
    seen = -1
    while True:
        detail = await alice.session.jobs.GetJob(job_pb2.GetJobRequest(job_id=job_id))
        job = detail.job
        if progress and job.tasks_done != seen:
            seen = job.tasks_done
            progress(job.tasks_done, job.tasks_total)
        if job.state in JOB_ENDED:
            return job
        for worker in workers:
            if worker.done() and worker.exception() is not None:
                raise DemoError(f"a worker stopped: {worker.exception()}")
        if time.monotonic() > deadline:
            raise DemoError(
                f"the job did not finish in {timeout_s:.0f}s ({job.tasks_done} of "
                f"{job.tasks_total} tasks done)"
            )
        await asyncio.sleep(0.3)


async def _merge_results(alice: Person, job_id: str, root: Path) -> float:
    results = await alice.session.jobs.GetResults(job_pb2.GetResultsRequest(job_id=job_id))
    out = root / "results"
    for result in results.results:
        if not result.result_digest:
            continue
        archive = root / "downloads" / f"{result.index}.zip"
        await download_artifact(alice.session.artifacts, result.result_digest, archive)
        await asyncio.to_thread(safe_extract, archive, out / str(result.index))
    merge = _load_merge(examples_dir() / "pi")
    try:
        pi, _samples, _tasks = await asyncio.to_thread(merge.merge, out)
    except SystemExit as exc:
        raise DemoError(f"no results to merge: {exc}") from None
    return pi
