"""One contributor's worker for bench/training.py, as its own process (so the bench can kill
it as a machine dies): the worker assembly of `hivemind worker run`, the app and the demo
(app/services/worker/assembly.py), Docker executor, BitTorrent on 127.0.0.1, one core.

    python bench/training_worker.py --home HOME --server 127.0.0.1:PORT --name bob-pc [--poison]

HOME must hold a logged-in HiveMind identity (HIVEMIND_KEYRING=file). Prints one line per
thing the bench needs: `node NODE_ID` once registered, `started job J round R task N` when
a task's container starts, `poisoned job J round R task N` (with --poison). Stops on SIGTERM.

`--poison` makes it a test double of a malicious contributor: its executor is the real Docker
executor with one change, `PoisoningDockerExecutor`, which multiplies the update every round
task writes by -10 (examples/train/local_run.py's `poison`) after the container exits and
before the worker packs and uploads it. Its aggregates and comparisons stay honest.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "examples" / "train"))

from local_run import UPDATE_FILE, poison  # noqa: E402

from app.services.client.credentials import CredentialStore  # noqa: E402
from app.services.client.session import ClientSession  # noqa: E402
from app.services.executors.base import ExecutionResult, LogCallback, TaskSpec  # noqa: E402
from app.services.executors.docker.executor import DockerExecutor  # noqa: E402
from app.services.settings import SettingsStore, home_key  # noqa: E402
from app.services.torrent.fetch import open_torrents  # noqa: E402
from app.services.worker import events as ev  # noqa: E402
from app.services.worker.agent import WorkerAgent  # noqa: E402
from app.services.worker.assembly import OpenedWorker, open_worker  # noqa: E402
from app.services.worker.options import WorkerOptions  # noqa: E402

LOOPBACK = "127.0.0.1"


def say(line: str) -> None:
    print(line, flush=True)


class PoisoningDockerExecutor(DockerExecutor):
    """Test double: the Docker executor, except that a round task's update is multiplied by
    -10 once its container exited successfully (what a malicious node's own code would send)."""

    async def run(
        self, spec: TaskSpec, cancel: asyncio.Event, on_log: LogCallback | None = None
    ) -> ExecutionResult:
        result = await super().run(spec, cancel, on_log)
        update = spec.output_dir / UPDATE_FILE
        round_task = spec.task_index >= 0 and spec.results_dirs is None
        if result.ok and round_task and await asyncio.to_thread(update.is_file):
            await asyncio.to_thread(poison, spec.output_dir)
            say(f"poisoned job {spec.job_id} round {spec.round} task {spec.task_index}")
        return result


async def open_poisoner(
    session: ClientSession,
    settings: SettingsStore,
    credentials: CredentialStore,
    options: WorkerOptions,
) -> OpenedWorker:
    """What open_worker assembles for the Docker executor, with the poisoning one instead."""
    executor = PoisoningDockerExecutor(instance=home_key(settings.home))
    availability = await executor.available()
    if not availability:
        raise SystemExit(f"training_worker: {availability.reason}")
    torrents = await open_torrents(settings, session.server, listen_interface=LOOPBACK)
    agent = WorkerAgent(
        session, settings, executor, credentials, options=options, torrents=torrents
    )
    return OpenedWorker(agent, torrents)


def event_printer(agent: WorkerAgent) -> ev.Listener:
    def print_event(event: ev.WorkerEvent) -> None:
        if event.kind == ev.REGISTERED:
            say(f"node {event.message}")
        elif event.kind == ev.TASK_STARTED and not event.comparison:
            held = agent.held.get(event.attempt_id)
            round_index = held.lease.round if held is not None else -1
            say(f"started job {event.job_id} round {round_index} task {event.task_index}")

    return print_event


async def run(args: argparse.Namespace) -> int:
    settings = SettingsStore(args.home)
    settings.update_contributor(cores=1, memory_mb=1024)
    credentials = CredentialStore(args.home, backend="file")
    # A short benchmark: four workers start at once on a small machine.
    options = WorkerOptions(name=args.name, lease_poll_s=0.5, benchmark_s=0.5)
    async with ClientSession(settings, credentials, server=args.server) as session:
        if args.poison:
            worker = await open_poisoner(session, settings, credentials, options)
        else:
            worker = await open_worker(
                session,
                settings,
                credentials,
                executor="docker",
                options=options,
                listen_interface=LOOPBACK,
            )
        agent = worker.agent
        agent.events.subscribe(event_printer(agent))
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGTERM, agent.request_stop, 0)
        try:
            await agent.run()
        finally:
            await worker.close()
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, required=True)
    parser.add_argument("--server", required=True)
    parser.add_argument("--name", required=True)
    parser.add_argument("--poison", action="store_true", help="the malicious test double")
    return asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    sys.exit(main())
