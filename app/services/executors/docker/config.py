"""What a task container looks like: the hardening every task gets, derived from a `TaskSpec`.

Pure functions and values, no Docker calls, so the sandbox's shape can be read (and checked)
in one place. `ContainerPlan.cli_flags()` renders the same plan as `docker run` flags, which
the benchmark uses to compare the executor with the plain CLI on identical containers.
"""

from __future__ import annotations

import os
import stat
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.services.executors.base import round_environment

# Every container we create carries these labels, so a restarted worker can find (and
# remove) what a crashed one left behind, without touching anybody else's containers.
LABEL_TASK = "io.hivemind.task"
LABEL_ATTEMPT = "io.hivemind.attempt"
LABEL_INSTANCE = "io.hivemind.instance"

# Runtime name (what a job asks for) -> local image. Admin-approved runtimes reach a worker
# as images it loads; this map only says under which tag each one lives here.
DEFAULT_RUNTIME_IMAGES: dict[str, str] = {"python-3.11": "hivemind/python:3.11"}

# "nobody": a task never runs as root, nor as the contributor's own account when we are root.
NOBODY_UID = 65534
NOBODY_GID = 65534

MOUNT_TASK = "/task"
MOUNT_INPUT = "/input"
MOUNT_OUTPUT = "/output"
# A comparison's two results, both read-only.
MOUNT_RESULTS_A = "/results/a"
MOUNT_RESULTS_B = "/results/b"
# A job with rounds: the round's model, and every output of the round for its aggregate.
MOUNT_MODEL = "/model"
MOUNT_ROUND_OUTPUTS = "/results"

DEFAULT_PIDS_LIMIT = 256
# Docker refuses memory limits under 6 MB; below ~16 MB not even an interpreter starts.
MIN_MEMORY_MB = 16
MAX_TMP_MB = 512


@dataclass(frozen=True)
class ContainerPlan:
    """Everything `create_container` needs for one attempt."""

    image: str
    command: list[str]
    user: str
    environment: dict[str, str]
    labels: dict[str, str]
    working_dir: str
    memory_mb: int
    nano_cpus: int
    pids_limit: int
    tmp_mb: int
    # (host path, container path, read_only)
    mounts: list[tuple[str, str, bool]] = field(default_factory=list)
    gpus: int = 0
    tmp_inodes: int = 0  # files /tmp may hold (0 = the kernel's default)

    @property
    def tmp_options(self) -> str:
        # Empty files cost no bytes but an inode each: /tmp's are capped like the work dir's.
        inodes = f",nr_inodes={self.tmp_inodes}" if self.tmp_inodes else ""
        return f"rw,nosuid,nodev,size={self.tmp_mb}m{inodes},mode=1777"

    def host_config_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for `APIClient.create_host_config` (mounts and GPUs excluded:
        they need docker.types objects, built by the executor)."""
        return {
            "network_mode": "none",
            "read_only": True,
            "tmpfs": {"/tmp": self.tmp_options},
            "cap_drop": ["ALL"],
            "security_opt": ["no-new-privileges"],
            "init": True,
            "pids_limit": self.pids_limit,
            "mem_limit": f"{self.memory_mb}m",
            # Equal to the memory limit: no swap, so the limit is a hard wall (BOINC's soft
            # limits are the failure we avoid).
            "memswap_limit": f"{self.memory_mb}m",
            "nano_cpus": self.nano_cpus,
            # Output reaches us through attach; the daemon keeps no log file that a chatty
            # task could grow without bound on the contributor's disk.
            "log_config": {"Type": "none", "Config": {}},
            "ipc_mode": "private",
        }

    def cli_flags(self) -> list[str]:
        """The same container as `docker run` flags (for the benchmark's raw baseline)."""
        flags = [
            "--network",
            "none",
            "--read-only",
            "--tmpfs",
            f"/tmp:{self.tmp_options}",
            "--cap-drop",
            "ALL",
            "--security-opt",
            "no-new-privileges",
            "--init",
            "--pids-limit",
            str(self.pids_limit),
            "--memory",
            f"{self.memory_mb}m",
            "--memory-swap",
            f"{self.memory_mb}m",
            "--cpus",
            f"{self.nano_cpus / 1e9:g}",
            "--log-driver",
            "none",
            "--ipc",
            "private",
            "--user",
            self.user,
            "--workdir",
            self.working_dir,
        ]
        for host, target, read_only in self.mounts:
            mount = f"type=bind,source={host},target={target}"
            flags += ["--mount", mount + (",readonly" if read_only else "")]
        for name, value in self.environment.items():
            flags += ["--env", f"{name}={value}"]
        for name, value in self.labels.items():
            flags += ["--label", f"{name}={value}"]
        return flags


def validate_spec(spec: Any) -> None:
    """Raises ValueError with one line a person understands when `spec` cannot run."""
    if not spec.command or not all(isinstance(part, str) and part for part in spec.command):
        raise ValueError("the job's command is empty")
    if spec.cores < 1:
        raise ValueError(f"cores must be at least 1 (got {spec.cores})")
    if not 1 <= spec.cpu_percent <= 100:
        raise ValueError(f"cpu_percent must be between 1 and 100 (got {spec.cpu_percent})")
    if spec.memory_mb < MIN_MEMORY_MB:
        raise ValueError(f"memory must be at least {MIN_MEMORY_MB} MB (got {spec.memory_mb})")
    if spec.disk_mb < 1:
        raise ValueError(f"disk must be at least 1 MB (got {spec.disk_mb})")
    if spec.timeout_s < 1:
        raise ValueError(f"timeout must be at least 1 s (got {spec.timeout_s})")
    if spec.gpus < 0:
        raise ValueError(f"gpus must not be negative (got {spec.gpus})")
    if not Path(spec.package_dir).is_dir():
        raise ValueError(f"package directory {spec.package_dir} does not exist")
    if spec.input_path is not None and not Path(spec.input_path).exists():
        raise ValueError(f"input {spec.input_path} does not exist")
    for results_dir in (*(getattr(spec, "results_dirs", None) or ()), *_round_dirs(spec)):
        if not Path(results_dir).is_dir():
            raise ValueError(f"results directory {results_dir} does not exist")


def _round_dirs(spec: Any) -> list[Path]:
    """The model and the round's outputs of a task of a job with rounds, those it has."""
    found = (getattr(spec, "model_dir", None), getattr(spec, "round_outputs_dir", None))
    return [Path(folder) for folder in found if folder is not None]


def container_user() -> tuple[int, int]:
    """uid/gid the task runs as: ours when we are an ordinary user (so the output files are
    ours to read and delete), else nobody; never 0."""
    if sys.platform != "win32" and hasattr(os, "getuid") and os.getuid() != 0:
        return os.getuid(), os.getgid()
    return NOBODY_UID, NOBODY_GID


def prepare_mounts(spec: Any, uid: int, gid: int) -> None:
    """Makes the mounts usable by the task's user: the output directory (the only writable
    mount) writable, the package, the input and a comparison's results readable. Blocking.

    Only needed when we are root and the task runs as nobody: a package unpacked into a
    0700 temporary directory would otherwise be unreadable inside the container.
    """
    output_dir = Path(spec.output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    if not hasattr(os, "getuid"):
        # Docker Desktop on Windows maps ownership its own way: open the directory instead.
        os.chmod(output_dir, 0o777)
        return
    if os.getuid() != 0:
        return
    os.chown(output_dir, uid, gid)
    _add_read_access(Path(spec.package_dir))
    if spec.input_path is not None:
        _add_read_access(Path(spec.input_path))
    for results_dir in (*(getattr(spec, "results_dirs", None) or ()), *_round_dirs(spec)):
        _add_read_access(Path(results_dir))


def _add_read_access(path: Path) -> None:
    """chmod a+rX on `path` and below (symlinks are left alone: never follow them)."""
    paths = [path]
    if path.is_dir() and not path.is_symlink():
        for root, dirs, files in os.walk(path):
            paths.extend(Path(root, name) for name in [*dirs, *files])
    for item in paths:
        info = item.lstat()
        if stat.S_ISLNK(info.st_mode):
            continue
        wanted = stat.S_IROTH | stat.S_IRGRP
        if stat.S_ISDIR(info.st_mode):
            wanted |= stat.S_IXOTH | stat.S_IXGRP
        if info.st_mode & wanted != wanted:
            os.chmod(item, stat.S_IMODE(info.st_mode) | wanted)


def tmp_size_mb(memory_mb: int) -> int:
    # /tmp is memory-backed and charged to the task's memory limit: a quarter of it.
    return max(8, min(memory_mb // 4, MAX_TMP_MB))


def build_plan(
    spec: Any,
    image: str,
    *,
    instance: str,
    user: tuple[int, int],
    pids_limit: int = DEFAULT_PIDS_LIMIT,
) -> ContainerPlan:
    """The container for one attempt of `spec` (a validated TaskSpec)."""
    mounts = [
        (str(Path(spec.package_dir).resolve()), MOUNT_TASK, True),
        (str(Path(spec.output_dir).resolve()), MOUNT_OUTPUT, False),
    ]
    input_env = ""
    if spec.input_path is not None:
        input_path = Path(spec.input_path).resolve()
        # Only the input itself is mounted, never its directory (which may hold other
        # tasks' inputs in the worker's cache).
        input_env = f"{MOUNT_INPUT}/{input_path.name}"
        mounts.append((str(input_path), input_env, True))
    results_env: dict[str, str] = {}
    results_dirs = getattr(spec, "results_dirs", None)
    if results_dirs is not None:
        for host_dir, target, name in (
            (results_dirs[0], MOUNT_RESULTS_A, "HIVEMIND_RESULTS_A"),
            (results_dirs[1], MOUNT_RESULTS_B, "HIVEMIND_RESULTS_B"),
        ):
            mounts.append((str(Path(host_dir).resolve()), target, True))
            results_env[name] = target
    # A job with rounds: its model and, for an aggregate, the round's outputs, read-only.
    model_dir = getattr(spec, "model_dir", None)
    outputs_dir = getattr(spec, "round_outputs_dir", None)
    for host_dir, target in ((model_dir, MOUNT_MODEL), (outputs_dir, MOUNT_ROUND_OUTPUTS)):
        if host_dir is not None:
            mounts.append((str(Path(host_dir).resolve()), target, True))
    round_env = round_environment(
        getattr(spec, "round", 0),
        getattr(spec, "rounds", 1),
        MOUNT_MODEL if model_dir is not None else None,
        MOUNT_ROUND_OUTPUTS if outputs_dir is not None else None,
    )
    environment = dict(spec.env)
    environment.update(
        {
            "HOME": "/tmp",
            "TMPDIR": "/tmp",
            "PYTHONUNBUFFERED": "1",
            "PYTHONDONTWRITEBYTECODE": "1",
            "HIVEMIND_TASK_DIR": MOUNT_TASK,
            "HIVEMIND_INPUT": input_env,
            "HIVEMIND_OUTPUT": MOUNT_OUTPUT,
            "HIVEMIND_TASK_INDEX": str(spec.task_index),
            **results_env,
            **round_env,
        }
    )
    return ContainerPlan(
        image=image,
        command=list(spec.command),
        user=f"{user[0]}:{user[1]}",
        environment=environment,
        labels={
            LABEL_TASK: "1",
            LABEL_ATTEMPT: spec.attempt_id,
            LABEL_INSTANCE: instance,
        },
        working_dir=MOUNT_TASK,
        memory_mb=spec.memory_mb,
        nano_cpus=spec.cores * spec.cpu_percent * 10_000_000,  # cores x percent x 1e9 / 100
        pids_limit=pids_limit,
        tmp_mb=tmp_size_mb(spec.memory_mb),
        mounts=mounts,
        gpus=spec.gpus,
        tmp_inodes=max(int(getattr(spec, "max_files", 0) or 0), 0),
    )
