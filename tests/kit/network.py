"""A test's network of people and worker agents (the `network` fixture): people with their own
HiveMind home and client session, worker agents with the process executor, jobs built from a
folder, results downloaded and unpacked. Everything talks to a real server over real gRPC on
127.0.0.1."""

from __future__ import annotations

import asyncio
import contextlib
import textwrap
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import pytest

from app.services.client.credentials import CredentialStore
from app.services.client.session import ClientError, ClientSession
from app.services.client.transfer import download_artifact, upload_file
from app.services.executors.process.executor import ProcessExecutor
from app.services.jobs.package import build_package_zip
from app.services.settings import SettingsStore
from app.services.unpack import safe_extract
from app.services.worker.agent import WorkerAgent
from app.services.worker.options import WorkerOptions
from proto.hivemind.v1 import account_pb2, common_pb2, job_pb2
from tests.kit.accounts import PASSWORD

ENDED = {common_pb2.JOB_STATE_DONE, common_pb2.JOB_STATE_FAILED, common_pb2.JOB_STATE_CANCELLED}


@dataclass
class Person:
    name: str
    home: Path
    settings: SettingsStore
    credentials: CredentialStore
    session: ClientSession

    async def balance(self) -> Holdings:
        reply = await self.session.account.GetBalance(account_pb2.GetBalanceRequest())
        return Holdings(
            reply.balance_ucpt + reply.starter_ucpt,
            reply.escrow_ucpt,
            reply.balance_ucpt,
            reply.starter_ucpt,
        )


@dataclass(frozen=True)
class Holdings:
    """What a person holds. The sign-up grant is starter credit, so the tests' sums of what
    was granted count CPT and starter credit together (`balance_ucpt`)."""

    balance_ucpt: int  # CPT and starter credit together, outside escrow
    escrow_ucpt: int
    cpt_ucpt: int
    starter_ucpt: int


class Network:
    """People, workers and jobs of one test, all cleaned up at the end."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.people: list[Person] = []
        self.workers: list[tuple[WorkerAgent, asyncio.Task[None]]] = []

    async def person(self, address: str, name: str, register: bool = True) -> Person:
        home = self.root / "homes" / name
        settings = SettingsStore(home)
        settings.update(server=address)
        credentials = CredentialStore(home, backend="file")
        session = ClientSession(settings, credentials, server=address)
        if register:
            await session.register(name, PASSWORD)
        person = Person(name, home, settings, credentials, session)
        self.people.append(person)
        return person

    def start_worker(
        self, person: Person, executor: Any = None, policy: Any = None, **options: Any
    ) -> WorkerAgent:
        options.setdefault("lease_poll_s", 0.2)
        agent = WorkerAgent(
            person.session,
            person.settings,
            executor or ProcessExecutor(),
            person.credentials,
            policy=policy,
            options=WorkerOptions(name=f"{person.name}-node", **options),
        )
        task = asyncio.create_task(agent.run(), name=f"worker-{person.name}")
        self.workers.append((agent, task))
        return agent

    async def stop_workers(self) -> None:
        for agent, _ in self.workers:
            agent.request_stop(drain_timeout_s=0)
        for _, task in self.workers:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(task, 30)

    async def close(self) -> None:
        await self.stop_workers()
        for person in self.people:
            await person.session.close()


def write_package(folder: Path, code: str, *, name: str = "test-job", tasks: int = 1) -> Path:
    """A job package folder: hivemind.toml + main.py with `code`."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "hivemind.toml").write_text(
        f'[job]\nname = "{name}"\nruntime = "python-3.11"\n'
        f'command = ["python3", "main.py"]\ntasks = {tasks}\n'
    )
    (folder / "main.py").write_text(textwrap.dedent(code))
    return folder


async def submit(
    person: Person,
    package_dir: Path,
    *,
    tasks: int = 0,
    inputs: list[Path] | None = None,
    cores: int = 1,
    memory_mb: int = 128,
    timeout_s: int = 60,
    max_attempts: int = 0,
) -> job_pb2.Job:
    archive = build_package_zip(package_dir, person.home / f"pkg-{uuid.uuid4().hex}.zip")
    session = person.session
    package = await upload_file(session.artifacts, archive, common_pb2.ARTIFACT_KIND_PACKAGE)
    task_inputs = []
    for path in inputs or []:
        info = await upload_file(session.artifacts, path, common_pb2.ARTIFACT_KIND_INPUT)
        task_inputs.append(job_pb2.TaskInput(digest=info.digest, name=path.name))
    request = job_pb2.SubmitJobRequest(
        name=package_dir.name,
        runtime="python-3.11",
        command=["python3", "main.py"],
        package_digest=package.digest,
        task_count=0 if task_inputs else tasks,
        inputs=task_inputs,
        resources=common_pb2.Resources(cores=cores, memory_mb=memory_mb, timeout_s=timeout_s),
        max_attempts=max_attempts,
        idempotency_key=f"test:{uuid.uuid4()}",
    )
    return await session.jobs.SubmitJob(request)


async def job_detail(person: Person, job_id: str) -> job_pb2.JobDetail:
    return await person.session.jobs.GetJob(
        job_pb2.GetJobRequest(job_id=job_id, include_tasks=True)
    )


async def wait_for_job(person: Person, job_id: str, timeout: float = 60.0) -> job_pb2.Job:
    """Polls until the job ended; fails the test with the job's state on timeout."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            job = (await job_detail(person, job_id)).job
        except ClientError as exc:
            # A test may kill the server on purpose: keep asking until it is back.
            if exc.code != grpc.StatusCode.UNAVAILABLE or time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.5)
            continue
        if job.state in ENDED:
            return job
        if time.monotonic() > deadline:
            pytest.fail(f"job {job_id} did not end in {timeout}s: {job}")
        await asyncio.sleep(0.2)


async def download_results(person: Person, job_id: str, dest: Path) -> job_pb2.GetResultsResponse:
    """Every result unpacked into dest/<task index>/ (as `hivemind job results` does)."""
    results = await person.session.jobs.GetResults(job_pb2.GetResultsRequest(job_id=job_id))
    for result in results.results:
        if result.result_digest:
            archive = dest.parent / f"{dest.name}-zips" / f"{result.index}.zip"
            await download_artifact(person.session.artifacts, result.result_digest, archive)
            safe_extract(archive, dest / str(result.index))
    return results


async def signup_grant(person: Person) -> int:
    rates = await person.session.account.GetRates(account_pb2.GetRatesRequest())
    return rates.signup_grant_ucpt
