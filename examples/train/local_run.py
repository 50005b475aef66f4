"""Runs the training example's whole algorithm on this machine, without the network, and
prints one JSON line of numbers (the README explains each).

Every task is the example's own command from hivemind.toml, run as the sandbox runs it: the
same environment variables (HIVEMIND_MODEL, HIVEMIND_INPUT, HIVEMIND_OUTPUT, HIVEMIND_RESULTS,
HIVEMIND_TASK_INDEX), read-only model, input and results, the package as working directory.
`--docker IMAGE` runs each one in that image with the sandbox's hardening (no network,
read-only root, tmpfs /tmp, no capabilities, user nobody); without it each is a plain
subprocess of `--python` (which needs torch, numpy and scikit-learn: Debian's python3-torch
and python3-sklearn for /usr/bin/python3 do).

The same run is done five ways, all at once on `--jobs` cores: honest workers; a node
poisoning its update every round (on another shard each round, as leases fall, and pinned to
one shard); one worker killed in the middle round; and the single-machine baseline (one
worker, the whole training set, as many steps as all workers took together).

    /usr/bin/python3 examples/train/local_run.py
    python3 examples/train/local_run.py --docker hivemind/python-torch:3.11

Only the standard library (numpy only to poison an update): `bench/training.py` can reuse the
pieces (`read_manifest`, `Scenario`, `train_rounds`, `baseline`, `sync_bytes`, `poison`) and
swap the runner for the network.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import tomllib
import uuid
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent
METRICS_FILE = "metrics.json"
UPDATE_FILE = "update.npy"
# A worker's poisoned update: its honest update, sign-flipped and scaled up (under a plain
# mean, one such worker of four drags the model backwards).
POISON_SCALE = -10.0


class RunError(Exception):
    """The run cannot go on; the message says why in one line."""


@dataclass(frozen=True)
class Manifest:
    """What the driver needs from the example's hivemind.toml."""

    command: list[str]
    aggregate: list[str]
    compare: list[str]
    rounds: int
    min_results: int

    @property
    def local_steps(self) -> int:
        """H: the value of the command's --steps."""
        if "--steps" not in self.command[:-1]:
            raise RunError("the job's command has no --steps N")
        return int(self.command[self.command.index("--steps") + 1])


def read_manifest(package: Path = PACKAGE) -> Manifest:
    job = tomllib.loads((package / "hivemind.toml").read_text(encoding="utf-8"))["job"]
    return Manifest(
        command=list(job["command"]),
        aggregate=list(job["aggregate"]),
        compare=list(job["compare"]),
        rounds=int(job["rounds"]),
        min_results=int(job["min_results"]),
    )


@dataclass(frozen=True)
class Task:
    """One sandboxed run: its command and the directories it is given."""

    argv: list[str]
    output_dir: Path
    model_dir: Path | None = None  # read-only; None in round 0
    input_file: Path | None = None  # read-only
    results_dir: Path | None = None  # read-only; an aggregate's accepted outputs
    compared: tuple[Path, Path] | None = None  # read-only; a comparison's two results
    index: int = 0


class ProcessRunner:
    """Tasks as plain subprocesses, with the sandbox's environment variables."""

    def __init__(self, package: Path, python: str) -> None:
        self.package = package
        self.python = python

    def start(self, task: Task) -> subprocess.Popen:
        argv = list(task.argv)
        if argv[0] in ("python", "python3"):
            argv[0] = self.python
        env = {k: v for k, v in os.environ.items() if not k.startswith("HIVEMIND_")}
        env.update(
            PYTHONDONTWRITEBYTECODE="1",
            HIVEMIND_TASK_DIR=str(self.package),
            HIVEMIND_OUTPUT=str(task.output_dir),
            HIVEMIND_INPUT=str(task.input_file or ""),
            HIVEMIND_TASK_INDEX=str(task.index),
        )
        if task.model_dir is not None:
            env["HIVEMIND_MODEL"] = str(task.model_dir)
        if task.results_dir is not None:
            env["HIVEMIND_RESULTS"] = str(task.results_dir)
        if task.compared is not None:
            env["HIVEMIND_RESULTS_A"], env["HIVEMIND_RESULTS_B"] = map(str, task.compared)
        return subprocess.Popen(
            argv, cwd=self.package, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )

    def kill(self, process: subprocess.Popen) -> None:
        process.kill()


class DockerRunner:
    """Tasks in a runtime image, hardened as the worker's Docker executor runs them."""

    def __init__(self, package: Path, image: str) -> None:
        self.package = package
        self.image = image
        self.names: dict[int, str] = {}  # process id -> container name, for kill

    def start(self, task: Task) -> subprocess.Popen:
        name = f"hivemind-train-{uuid.uuid4().hex[:12]}"
        task.output_dir.chmod(0o777)  # the task runs as nobody
        mounts = [(self.package, "/task", True), (task.output_dir, "/output", False)]
        env = {"HOME": "/tmp", "HIVEMIND_TASK_DIR": "/task", "HIVEMIND_OUTPUT": "/output"}
        env["HIVEMIND_TASK_INDEX"] = str(task.index)
        env["HIVEMIND_INPUT"] = ""
        if task.input_file is not None:
            env["HIVEMIND_INPUT"] = f"/input/{task.input_file.name}"
            mounts.append((task.input_file, env["HIVEMIND_INPUT"], True))
        if task.model_dir is not None:
            env["HIVEMIND_MODEL"] = "/model"
            mounts.append((task.model_dir, "/model", True))
        if task.results_dir is not None:
            env["HIVEMIND_RESULTS"] = "/results"
            mounts.append((task.results_dir, "/results", True))
        if task.compared is not None:
            env["HIVEMIND_RESULTS_A"], env["HIVEMIND_RESULTS_B"] = "/results/a", "/results/b"
            mounts += [
                (task.compared[0], "/results/a", True),
                (task.compared[1], "/results/b", True),
            ]
        flags = ["--rm", "--name", name, "--network", "none", "--read-only", "--init"]
        flags += ["--tmpfs", "/tmp:rw,nosuid,nodev,size=128m,mode=1777", "--cap-drop", "ALL"]
        flags += ["--security-opt", "no-new-privileges", "--user", "65534:65534"]
        flags += ["--memory", "512m", "--memory-swap", "512m", "--cpus", "1", "--workdir", "/task"]
        for source, target, read_only in mounts:
            mount = f"type=bind,source={Path(source).resolve()},target={target}"
            flags += ["--mount", mount + (",readonly" if read_only else "")]
        for key, value in env.items():
            flags += ["--env", f"{key}={value}"]
        process = subprocess.Popen(
            ["docker", "run", *flags, self.image, *task.argv],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        self.names[process.pid] = name
        return process

    def kill(self, process: subprocess.Popen) -> None:
        # Killing the docker client would leave the container running: kill the container,
        # once it exists (`docker kill` fails while `docker run` is still creating it).
        while process.poll() is None:
            killed = subprocess.run(
                ["docker", "kill", self.names[process.pid]], capture_output=True, check=False
            )
            if killed.returncode == 0:
                break
            time.sleep(0.1)


Runner = ProcessRunner | DockerRunner


@dataclass
class Pool:
    """Runs tasks on `slots` cores at most, shared by every scenario running at once."""

    runner: Runner
    slots: int
    verbose: bool = False
    _slots: threading.Semaphore = field(init=False)

    def __post_init__(self) -> None:
        self._slots = threading.Semaphore(self.slots)

    def run(self, task: Task, kill_after_s: float | None = None) -> bool:
        """True when the task exited 0. `kill_after_s` kills it that long after its start."""
        task.output_dir.mkdir(parents=True, exist_ok=True)
        with self._slots:
            process = self.runner.start(task)
            if kill_after_s is not None:
                try:
                    process.wait(timeout=kill_after_s)
                except subprocess.TimeoutExpired:
                    self.runner.kill(process)
            log, _ = process.communicate()
        text = log.decode(errors="replace").strip()
        if self.verbose or process.returncode not in (0, -9, 137):
            print(f"[{task.output_dir.parent.name}/{task.output_dir.name}] {text}", file=sys.stderr)
        return process.returncode == 0

    def run_all(self, tasks: Sequence[Task], kill: dict[int, float] | None = None) -> list[bool]:
        kill = kill or {}
        with ThreadPoolExecutor(max_workers=max(len(tasks), 1)) as threads:
            futures = [threads.submit(self.run, t, kill.get(i)) for i, t in enumerate(tasks)]
            return [future.result() for future in futures]


@dataclass(frozen=True)
class Scenario:
    """What goes wrong in a run: a node poisoning its update every round, a worker killed."""

    name: str
    # The malicious node's first task. On the network it leases whichever task is free, so by
    # default it lands on another shard each round (task poisoner + round); `poisoner_moves`
    # False pins it to one shard, whose data is then lost to the run (the worst case).
    poisoner: int | None = None
    poisoner_moves: bool = True
    dropout_worker: int | None = None
    dropout_round: int | None = None
    # Runs round 0's first task twice, as a replicated task would be, to check determinism.
    replicate_first_task: bool = False

    def poisoned_task(self, round_index: int, tasks: int) -> int:
        assert self.poisoner is not None
        return (self.poisoner + (round_index if self.poisoner_moves else 0)) % tasks


@dataclass
class RunResult:
    metrics: list[dict]  # the aggregate's metrics.json, round by round
    bytes_exchanged: int  # model, momentum, update and metrics bytes into and out of tasks
    # How each replicated task (every aggregate, round 0's first task) was accepted: "identical"
    # (equal digests), "equivalent" (compare.py), or "different" (would go to a third node).
    replica_verdicts: list[str]

    @property
    def accuracy(self) -> float:
        return self.metrics[-1]["accuracy"]


def directory_bytes(path: Path | None) -> int:
    if path is None:
        return 0
    return sum(item.stat().st_size for item in path.rglob("*") if item.is_file())


def digest(path: Path) -> str:
    """One SHA-256 over a directory's file names and contents (what a result artifact is)."""
    total = hashlib.sha256()
    for item in sorted(p for p in path.rglob("*") if p.is_file()):
        total.update(str(item.relative_to(path)).encode() + b"\0" + item.read_bytes())
    return total.hexdigest()


def poison(output_dir: Path) -> None:
    """Rewrites a worker's update the way a malicious node would (numpy is imported here
    only: the driver itself runs without it)."""
    import numpy as np

    path = output_dir / UPDATE_FILE
    update = np.load(path, allow_pickle=False)
    np.save(path, (update * POISON_SCALE).astype(np.float32), allow_pickle=False)


def judge(pool: Pool, manifest: Manifest, a: Path, b: Path) -> str:
    """As the server decides: equal digests, else the job's compare command on both."""
    if digest(a) == digest(b):
        return "identical"
    verdict = a.parent / f"compare-{a.name}-{b.name}"
    return (
        "equivalent" if pool.run(Task(manifest.compare, verdict, compared=(a, b))) else "different"
    )


def train_rounds(
    pool: Pool,
    manifest: Manifest,
    shards: Sequence[Path],
    work: Path,
    scenario: Scenario,
    *,
    rounds: int | None = None,
    command: list[str] | None = None,
    aggregate: list[str] | None = None,
) -> RunResult:
    """The whole algorithm: `rounds` of one task per shard, then two replicas of the aggregate
    over the accepted outputs; returns the metrics of every round and what moved."""
    command = command or manifest.command
    aggregate = aggregate or manifest.aggregate
    min_results = min(manifest.min_results, len(shards))
    model_dir: Path | None = None
    moved, verdicts, metrics = 0, [], []
    for round_index in range(rounds if rounds is not None else manifest.rounds):
        round_dir = work / scenario.name / f"round-{round_index:02d}"
        results = round_dir / "results"
        tasks = [
            Task(command, results / f"{i:02d}", model_dir, shard, index=i)
            for i, shard in enumerate(shards)
        ]
        kill = {}
        if scenario.dropout_round == round_index and scenario.dropout_worker is not None:
            kill[scenario.dropout_worker] = 0.5  # mid-task: importing torch takes longer
        replica = Task(command, round_dir / "replica", model_dir, shards[0], index=0)
        extra = [replica] if round_index == 0 and scenario.replicate_first_task else []
        done = pool.run_all(tasks + extra, kill)
        for task, ok in zip(tasks, done, strict=False):
            if not ok:  # a failed or killed task: the network never mounts its output
                shutil.rmtree(task.output_dir)
        if extra and done[0] and done[-1]:
            verdicts.append(judge(pool, manifest, tasks[0].output_dir, replica.output_dir))
        accepted = [task for task, ok in zip(tasks, done, strict=False) if ok]
        if len(accepted) < min_results:
            raise RunError(
                f"{scenario.name} round {round_index}: {len(accepted)} results, "
                f"fewer than min_results {min_results}"
            )
        if scenario.poisoner is not None:
            bad = scenario.poisoned_task(round_index, len(tasks))
            if done[bad]:
                poison(tasks[bad].output_dir)
        moved += sum(directory_bytes(t.model_dir) + directory_bytes(t.output_dir) for t in accepted)

        replicas = [
            Task(aggregate, round_dir / name, model_dir, results_dir=results, index=0)
            for name in ("model-a", "model-b")
        ]
        if not all(pool.run_all(replicas)):
            raise RunError(f"{scenario.name} round {round_index}: the aggregate failed")
        verdicts.append(judge(pool, manifest, replicas[0].output_dir, replicas[1].output_dir))
        for task in replicas:
            moved += directory_bytes(model_dir) + directory_bytes(results)
            moved += directory_bytes(task.output_dir)
        model_dir = replicas[0].output_dir
        metrics.append(json.loads((model_dir / METRICS_FILE).read_text(encoding="utf-8")))
        print(f"{scenario.name}: round {round_index} {metrics[-1]}", file=sys.stderr)
    return RunResult(metrics, moved, verdicts)


def make_shards(pool: Pool, out_dir: Path, workers: int) -> list[Path]:
    """shard.py, run like a task (the submitter runs it on their own machine)."""
    if not pool.run(Task(["python3", "shard.py", "--workers", str(workers)], out_dir)):
        raise RunError("shard.py failed")
    return sorted(out_dir.glob("shard-*.csv"))


def baseline(pool: Pool, manifest: Manifest, work: Path, workers: int, rounds: int) -> RunResult:
    """The same network trained on one machine: one task on the whole training set with as
    many steps as all workers of all rounds, its update applied as is (outer step of 1)."""
    shards = make_shards(pool, work / "baseline-data", 1)
    total = workers * rounds * manifest.local_steps
    return train_rounds(
        pool,
        manifest,
        shards,
        work,
        Scenario("baseline"),
        rounds=1,
        command=[*manifest.command, "--steps", str(total)],
        aggregate=[*manifest.aggregate, "--rule", "mean", "--outer-lr", "1", "--momentum", "0"],
    )


def sync_bytes(model_bytes: int, workers: int, rounds: int, local_steps: int) -> int:
    """What synchronous data-parallel training moves in as many steps: every step, each
    worker sends its gradient and receives the average (a model's size each way)."""
    return 2 * model_bytes * workers * rounds * local_steps


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--rounds", type=int, help="default: hivemind.toml's rounds")
    parser.add_argument("--docker", metavar="IMAGE", help="run every task in this image")
    parser.add_argument("--python", default=sys.executable, help="without --docker")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="tasks at once")
    parser.add_argument("--work-dir", type=Path, help="keep every round's files here")
    parser.add_argument("--verbose", action="store_true", help="print every task's output")
    args = parser.parse_args()
    manifest = read_manifest()
    rounds = args.rounds or manifest.rounds
    if args.workers < 2 or rounds < 1:
        parser.error("--workers must be at least 2 and --rounds at least 1")
    runner: Runner = (
        DockerRunner(PACKAGE, args.docker) if args.docker else ProcessRunner(PACKAGE, args.python)
    )
    pool = Pool(runner, max(args.jobs, 1), args.verbose)
    work = args.work_dir or Path(tempfile.mkdtemp(prefix="hivemind-train-"))
    started = time.monotonic()
    try:
        shards = make_shards(pool, work / "data", args.workers)
        scenarios = [
            Scenario("honest", replicate_first_task=True),
            Scenario("poisoned", poisoner=0),
            Scenario("poisoned-fixed", poisoner=0, poisoner_moves=False),
            Scenario("dropout", dropout_worker=args.workers - 1, dropout_round=rounds // 2),
        ]
        with ThreadPoolExecutor(max_workers=len(scenarios) + 1) as threads:
            base = threads.submit(baseline, pool, manifest, work, args.workers, rounds)
            runs = [
                threads.submit(train_rounds, pool, manifest, shards, work, s, rounds=rounds)
                for s in scenarios
            ]
            honest, poisoned, poisoned_fixed, dropout = (future.result() for future in runs)
            single = base.result()
        model_bytes = (work / "honest" / "round-00" / "model-a" / "model.npy").stat().st_size
    except RunError as exc:
        print(f"local_run: {exc}", file=sys.stderr)
        return 1
    finally:
        if args.work_dir is None:
            shutil.rmtree(work, ignore_errors=True)
    sync = sync_bytes(model_bytes, args.workers, rounds, manifest.local_steps)
    print(
        json.dumps(
            {
                "accuracy": honest.accuracy,
                "baseline_accuracy": single.accuracy,
                "poisoned_accuracy": poisoned.accuracy,
                "poisoned_fixed_task_accuracy": poisoned_fixed.accuracy,
                "dropout_accuracy": dropout.accuracy,
                "rounds": rounds,
                "workers": args.workers,
                "local_steps": manifest.local_steps,
                "bytes_exchanged": honest.bytes_exchanged,
                "sync_bytes_equivalent": sync,
                "communication_ratio": round(sync / honest.bytes_exchanged, 1),
                "replicas": {
                    v: honest.replica_verdicts.count(v) for v in set(honest.replica_verdicts)
                },
                "accuracy_per_round": [m["accuracy"] for m in honest.metrics],
                "runner": f"docker {args.docker}" if args.docker else "process",
                "seconds": round(time.monotonic() - started, 1),
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
