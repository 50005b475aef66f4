"""The demo: a whole network on this machine, for a minute, then gone.

A server subprocess on a free loopback port with a temporary data dir; a submitter (alice)
and three contributors (bob, carol, dave), each with their own temporary HiveMind home; three
worker agents (Docker when the daemon and the runtime image are here, else the process
executor). Alice submits examples/pi; the workers run its tasks, then its aggregate (merge.py)
on nodes of two owners, whose merged estimates must agree; alice downloads the job's result.
Then she submits examples/montecarlo: every task runs on nodes of two owners, whose
honest results differ in bytes, so the node of the third owner runs the job's compare.py on
both; each task shows how it was verified and by whom (app/demo/jobs.py). Last,
every balance is read to show that what alice paid for both jobs is what the contributors
earned, the rest refunded: the total granted is conserved. Nothing outside the temporary
folder is touched.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import shlex
import shutil
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.demo.jobs import (
    CheckedJob,
    Example,
    TaskProgress,
    WorkerDiary,
    check_job,
    load_example,
    merged_by,
    merged_pi,
    submit_example,
    wait_for_job,
)
from app.demo.server import DemoError, ServerProcess
from app.services.client.credentials import CredentialStore
from app.services.client.session import ClientSession
from app.services.executors.choice import ExecutorUnavailable
from app.services.jobs.results import download_results
from app.services.jobs.states import job_state_name
from app.services.settings import SettingsStore
from app.services.worker.agent import WorkerAgent
from app.services.worker.assembly import OpenedWorker, open_worker
from app.services.worker.options import WorkerOptions
from proto.hivemind.v1 import account_pb2, common_pb2, job_pb2

SUBMITTER = "alice"
# Three owners: a replicated task runs on nodes of two of them and, when their results differ
# in bytes, is compared by a node of the third.
CONTRIBUTORS = ("bob", "carol", "dave")
RUNTIME = "python-3.11"
Status = Callable[[str], None]
# The demo's network is private, so each new account gets more starter credit than a public
# server's default: enough for the replicated job, which holds 6.5 CPT at worst.
DEMO_STARTER_CREDIT_UCPT = 10_000_000


@dataclass
class DemoResult:
    pi: float  # what the π job's aggregate merged on the network
    job_id: str  # the π job (examples/pi)
    job_state: str
    tasks_total: int  # the π job's tasks (its aggregate apart)
    tasks_done: int
    merged_by: list[str]  # owners whose nodes ran its aggregate (merge.py) and agreed
    aggregate_command: list[str]
    executor: str
    balances: dict[str, int]  # username -> ucpt after both jobs
    escrow_ucpt: int  # still held in escrow (0 once the jobs ended)
    total_granted_ucpt: int
    cost_ucpt: int  # what the π job cost
    refunded_ucpt: int  # what the π job did not spend
    montecarlo: CheckedJob  # the replicated job (examples/montecarlo), task by task
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

    @property
    def jobs_cost_ucpt(self) -> int:
        """What the submitter paid for both jobs."""
        return self.cost_ucpt + self.montecarlo.cost_ucpt

    @property
    def all_done(self) -> bool:
        """Every task of both jobs done, and every replicated one verified."""
        checked = self.montecarlo
        return (
            self.job_state == "done"
            and self.tasks_done == self.tasks_total
            and checked.tasks_done == checked.tasks_total
            and checked.tasks_verified == checked.tasks_total
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "pi": self.pi,
            "job_id": self.job_id,
            "job_state": self.job_state,
            "tasks_total": self.tasks_total,
            "tasks_done": self.tasks_done,
            "merged_by": list(self.merged_by),
            "aggregate_command": list(self.aggregate_command),
            "executor": self.executor,
            "balances": dict(self.balances),
            "earned": dict(self.earned),
            "escrow_ucpt": self.escrow_ucpt,
            "cost_ucpt": self.cost_ucpt,
            "refunded_ucpt": self.refunded_ucpt,
            "montecarlo": self.montecarlo.to_dict(),
            "jobs_cost_ucpt": self.jobs_cost_ucpt,
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
    worker: OpenedWorker | None = None  # a contributor's worker and its BitTorrent session


async def _person(root: Path, name: str, server: str) -> Person:
    home = root / "homes" / name
    settings = SettingsStore(home)
    settings.update(server=server)
    # The demo's throw-away identities never go to the system keyring.
    credentials = CredentialStore(home, backend="file")
    session = ClientSession(settings, credentials, server=server)
    await session.register(name, secrets.token_urlsafe(16))
    return Person(name, home, settings, credentials, session)


def planned_tasks(pi_tasks: int) -> int:
    """How many tasks the demo runs: `pi_tasks` of examples/pi and its aggregate, and
    examples/montecarlo's."""
    examples = examples_dir()
    return job_size(load_example(examples / "pi", pi_tasks)) + job_size(
        load_example(examples / "montecarlo")
    )


def job_size(example: Example) -> int:
    """Every task the example's job runs: each round's and its aggregate."""
    spec = example.spec
    return spec.rounds * (spec.tasks + (1 if spec.aggregate_command else 0))


@dataclass
class Contributor:
    person: Person
    agent: WorkerAgent
    diary: WorkerDiary  # what its worker did, from the worker's own events


async def run_demo(
    *,
    tasks: int = 8,
    executor: str = "auto",
    status: Status | None = None,
    progress: TaskProgress | None = None,
    timeout_s: float = 300.0,
    keep_dir: Path | None = None,
) -> DemoResult:
    """Runs the whole demo; raises DemoError when a step fails. Everything started is
    stopped and the temporary folder removed (unless `keep_dir` names where to keep it).
    `progress(done, total)` counts the tasks of both jobs together."""
    say = status or (lambda text: None)
    started = time.monotonic()
    examples = await asyncio.to_thread(examples_dir)
    pi_example = await asyncio.to_thread(load_example, examples / "pi", tasks)
    montecarlo = await asyncio.to_thread(load_example, examples / "montecarlo")
    all_tasks = job_size(pi_example) + job_size(montecarlo)
    root = Path(keep_dir) if keep_dir else Path(tempfile.mkdtemp(prefix="hivemind-demo-"))
    root.mkdir(parents=True, exist_ok=True)
    server = ServerProcess(
        root / "server", root / "server.log", {"signup_grant_ucpt": DEMO_STARTER_CREDIT_UCPT}
    )
    people: list[Person] = []
    contributors: list[Contributor] = []
    workers: list[asyncio.Task[None]] = []
    try:
        address = await server.start()
        say(f"server running on {address} (data in {server.data_dir})")
        for name in (SUBMITTER, *CONTRIBUTORS):
            people.append(await _person(root, name, address))
        alice = people[0]
        say(f"registered {_names(p.name for p in people)} (each got starter credit)")

        notice = ""
        for person in people[1:]:
            contributor, notice = await _start_worker(person, executor)
            contributors.append(contributor)
            workers.append(
                asyncio.create_task(contributor.agent.run(), name=f"demo-worker-{person.name}")
            )
        executor_name = contributors[0].agent.executor.name
        if notice:
            say(notice)
        say(f"workers of {_names(CONTRIBUTORS)} started ({executor_name})")

        job = await submit_example(alice.session, pi_example, root)
        merge = shlex.join(job.aggregate_command)
        say(
            f"{alice.name} submitted job {job.job_id}: {job.round_tasks} tasks of examples/pi,"
            f" merged on the network by `{merge}` on nodes of two owners"
        )
        job = await wait_for_job(
            alice.session, job.job_id, _counting(progress, 0, all_tasks), timeout_s, workers
        )
        pi_done = await _round_tasks_done(alice, job.job_id)
        merged = await merged_by([(c.person.session, c.diary) for c in contributors], job.job_id)
        say(
            f"job {job_state_name(job.state)}: {pi_done} of {job.round_tasks} tasks done,"
            f" merged by {_names(merged) if merged else 'nobody'}"
        )
        await download_results(alice.session, job.job_id, root / "pi" / "results")
        pi = await asyncio.to_thread(merged_pi, root / "pi" / "results")

        checked = await _run_replicated(
            alice,
            montecarlo,
            contributors,
            workers,
            root,
            say,
            timeout_s,
            _counting(progress, job.tasks_total, all_tasks),
        )
        for contributor in contributors:
            contributor.agent.request_stop(drain_timeout_s=0)
        await asyncio.gather(*workers, return_exceptions=True)

        balances: dict[str, int] = {}
        escrow = 0
        for person in people:
            balance = await person.session.account.GetBalance(account_pb2.GetBalanceRequest())
            # CPT and starter credit together: what each holds (conserved with the escrow).
            balances[person.name] = balance.balance_ucpt + balance.starter_ucpt
            escrow += balance.escrow_ucpt
        rates = await alice.session.account.GetRates(account_pb2.GetRatesRequest())
        granted = rates.signup_grant_ucpt * len(people)
        audit = await server.check_ledger()
        ledger_ok = None
        if audit is not None:
            ledger_ok = bool(audit.get("ok"))
            granted = int(audit.get("total_granted", {}).get("ucpt", granted))
        earned = {name: balances[name] - rates.signup_grant_ucpt for name in CONTRIBUTORS}
        return DemoResult(
            pi=pi,
            job_id=job.job_id,
            job_state=job_state_name(job.state),
            tasks_total=job.round_tasks,
            tasks_done=pi_done,
            merged_by=merged,
            aggregate_command=list(job.aggregate_command),
            executor=executor_name,
            balances=balances,
            escrow_ucpt=escrow,
            total_granted_ucpt=granted,
            cost_ucpt=job.cost_ucpt,
            refunded_ucpt=job.refunded_ucpt,
            montecarlo=checked,
            earned=earned,
            ledger_ok=ledger_ok,
            notice=notice,
            seconds=time.monotonic() - started,
        )
    finally:
        for contributor in contributors:
            contributor.agent.request_stop(drain_timeout_s=0)
        if workers:
            await asyncio.gather(*workers, return_exceptions=True)
        for person in people:
            with contextlib.suppress(Exception):
                await person.session.close()
            if person.worker is not None:
                await person.worker.close()
        await server.stop()
        if keep_dir is None:
            await asyncio.to_thread(shutil.rmtree, root, True)


async def _start_worker(person: Person, kind: str) -> tuple[Contributor, str]:
    """The person's worker agent (not yet running) and the executor notice, if any."""
    person.settings.update_contributor(cores=1, memory_mb=512)
    try:
        worker = await open_worker(
            person.session,
            person.settings,
            person.credentials,
            executor=kind,
            instance=f"demo-{person.name}-{uuid.uuid4().hex[:6]}",
            # Without a server that stores runtime images, Docker is usable only with the
            # image already here.
            runtime=RUNTIME,
            # The three workers share this process (and its GIL): a short CPU benchmark leaves
            # the first tasks room to run; the score is a rate, so half a second measures it.
            options=WorkerOptions(name=f"{person.name}-laptop", lease_poll_s=0.3, benchmark_s=0.5),
            # Each worker has its own BitTorrent session on loopback: packages and results
            # travel by torrent between the workers and the local server.
            listen_interface="127.0.0.1",
        )
    except ExecutorUnavailable as exc:
        raise DemoError(f"cannot use Docker: {exc}") from None
    person.worker = worker
    person.settings.update_contributor(executor=worker.agent.executor.name)
    diary = WorkerDiary(person.name)
    worker.agent.events.subscribe(diary)
    return Contributor(person, worker.agent, diary), worker.notice


async def _run_replicated(
    alice: Person,
    example: Example,
    contributors: list[Contributor],
    workers: list[asyncio.Task[None]],
    root: Path,
    say: Status,
    timeout_s: float,
    progress: TaskProgress | None,
) -> CheckedJob:
    """The replicated job with a compare command, from submission to each task's verdict."""
    job = await submit_example(alice.session, example, root)
    say(
        f"{alice.name} submitted job {job.job_id}: {job.tasks_total} tasks of {example.label}, "
        f"each run by {job.replicas} owners' nodes, their results compared with "
        f"`{shlex.join(job.compare_command)}` on a third owner's node"
    )
    job = await wait_for_job(alice.session, job.job_id, progress, timeout_s, workers)
    checked = await check_job(
        alice.session,
        job,
        example,
        [(c.person.session, c.diary) for c in contributors],
        root / example.folder.name,
    )
    say(
        f"job {checked.job_state}: {checked.tasks_done} of {checked.tasks_total} tasks done, "
        f"{checked.tasks_verified} verified"
    )
    return checked


async def _round_tasks_done(person: Person, job_id: str) -> int:
    """Tasks of the job that are done, its aggregate apart."""
    detail = await person.session.jobs.GetJob(
        job_pb2.GetJobRequest(job_id=job_id, include_tasks=True)
    )
    return sum(1 for t in detail.tasks if not t.aggregate and t.state == common_pb2.TASK_STATE_DONE)


def _counting(progress: TaskProgress | None, before: int, total: int) -> TaskProgress | None:
    """Progress of one job as a share of both jobs' tasks."""
    if progress is None:
        return None
    return lambda done, _job_total: progress(before + done, total)


def _names(names: Iterable[str]) -> str:
    """'bob, carol and dave'."""
    listed = list(names)
    return listed[0] if len(listed) == 1 else f"{', '.join(listed[:-1])} and {listed[-1]}"
