"""Job packages on the submitter's side: read `hivemind.toml`, build the zip to upload.

A package is a folder or a zip with `hivemind.toml` at its root:

    [job]
    name = "primes"
    runtime = "python-3.11"
    command = ["python", "main.py"]
    tasks = 10                # or one task per --input file
    replicas = 1              # optional
    priority = 1.0            # optional
    max_attempts = 3          # optional
    max_cost = "5"            # optional, CPT
    compare = ["python3", "compare.py"]  # optional: when are two results equivalent
    compare_timeout_s = 60    # optional, seconds per comparison
    aggregate = ["python3", "merge.py"]  # optional: combines a round's outputs
    rounds = 1                # optional: more rounds need an aggregate (training)
    min_results = 0           # optional: accepted tasks a round needs (0 = all)
    round_deadline_s = 0      # optional: how long a round waits for more than min_results

    [resources]
    cores = 1
    memory_mb = 256
    timeout_s = 60
    disk_mb = 1024

A folder is zipped deterministically (sorted entries, fixed timestamps and modes), so the
same folder always gives the same archive and digest, and an unchanged package is not
uploaded twice. Everything here blocks: async callers use `asyncio.to_thread`.
"""

from __future__ import annotations

import dataclasses
import os
import stat
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from common import bounded_toml
from common.units import parse_cpt

MANIFEST = "hivemind.toml"
DEFAULT_RUNTIME = "python-3.11"
SKIPPED_DIRS = {"__pycache__", ".git"}
# 1980-01-01 is the earliest time a zip entry can hold; any fixed value makes builds stable.
FIXED_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
MAX_MANIFEST_BYTES = 256 * 1024
_COPY_BYTES = 1024 * 1024

_JOB_KEYS = {"name", "runtime", "command", "tasks", "replicas", "priority", "max_attempts"}
_JOB_KEYS |= {"max_cost", "compare", "compare_timeout_s"}
_JOB_KEYS |= {"rounds", "aggregate", "min_results", "round_deadline_s"}
_RESOURCE_KEYS = {"cores", "memory_mb", "timeout_s", "disk_mb", "gpus"}


class PackageError(Exception):
    """A package cannot be used; the message says why in one line."""


@dataclass
class JobSpec:
    """What a job asks for, from hivemind.toml with command-line flags on top."""

    name: str
    command: list[str]
    runtime: str = DEFAULT_RUNTIME
    tasks: int = 0  # 0 = one task per input
    cores: int = 1
    memory_mb: int = 256
    timeout_s: int = 60
    disk_mb: int = 1024
    gpus: int = 0
    replicas: int = 1
    priority: float = 1.0
    max_attempts: int = 0  # 0 = the server's default
    max_cost_ucpt: int = 0  # 0 = the worst case the server computes
    # For results that may differ and still be right: a command that gets two results at
    # /results/a and /results/b and exits 0 when they are equivalent. Empty = equal digests.
    compare_command: list[str] = field(default_factory=list)
    compare_timeout_s: int | None = None  # None = the server's default
    # Rounds (README "Rounds"): each round runs the tasks from the model the previous round's
    # aggregate made; the aggregate command combines a round's accepted outputs (at /results,
    # the model at /model) into the next model, the last one being the job's result.
    rounds: int = 1
    aggregate_command: list[str] = field(default_factory=list)  # empty = no rounds
    min_results: int = 0  # accepted tasks a round needs; 0 = every task
    round_deadline_s: int = 0  # how long a round waits for more than min_results; 0 = none

    def with_overrides(self, **flags: Any) -> JobSpec:
        """A copy with every flag that is not None applied, validated."""
        changes = {k: v for k, v in flags.items() if v is not None}
        unknown = set(changes) - {f.name for f in dataclasses.fields(self)}
        if unknown:
            raise PackageError(f"unknown job setting(s): {', '.join(sorted(unknown))}")
        spec = dataclasses.replace(self, **changes)
        spec.validate()
        return spec

    def validate(self) -> None:
        if not self.name.strip():
            raise PackageError("the job needs a name ([job] name or --name)")
        if not self.runtime.strip():
            raise PackageError("the job needs a runtime ([job] runtime or --runtime)")
        if not self.command or not all(isinstance(a, str) and a for a in self.command):
            raise PackageError(
                'command must be a non-empty list of strings, e.g. command = ["python", "main.py"]'
            )
        for name, low in (("tasks", 0), ("cores", 1), ("memory_mb", 1), ("timeout_s", 1)):
            _require_int(name, getattr(self, name), low)
        for name, low in (("disk_mb", 1), ("gpus", 0), ("replicas", 1), ("max_attempts", 0)):
            _require_int(name, getattr(self, name), low)
        _require_int("max_cost", self.max_cost_ucpt, 0)
        self._validate_compare()
        self._validate_rounds()
        if isinstance(self.priority, bool) or not isinstance(self.priority, int | float):
            raise PackageError(f"priority must be a number, not {self.priority!r}")
        if not 0.1 <= float(self.priority) <= 10:
            raise PackageError(f"priority must be between 0.1 and 10, not {self.priority}")

    def _validate_compare(self) -> None:
        if not isinstance(self.compare_command, list) or not all(
            isinstance(a, str) and a for a in self.compare_command
        ):
            raise PackageError(
                "compare must be a list of non-empty strings, "
                'e.g. compare = ["python3", "compare.py"]'
            )
        if self.compare_timeout_s is None:
            return
        _require_int("compare_timeout_s", self.compare_timeout_s, 1)
        if not self.compare_command:
            raise PackageError(
                "compare_timeout_s needs a compare command ([job] compare or --compare)"
            )
        if self.compare_timeout_s > self.timeout_s:
            raise PackageError(
                f"compare_timeout_s ({self.compare_timeout_s}) must not be above the task "
                f"timeout_s ({self.timeout_s})"
            )

    def _validate_rounds(self) -> None:
        if not isinstance(self.aggregate_command, list) or not all(
            isinstance(a, str) and a for a in self.aggregate_command
        ):
            raise PackageError(
                "aggregate must be a list of non-empty strings, "
                'e.g. aggregate = ["python3", "merge.py"]'
            )
        _require_int("rounds", self.rounds, 1)
        _require_int("min_results", self.min_results, 0)
        _require_int("round_deadline_s", self.round_deadline_s, 0)
        if self.aggregate_command:
            if self.tasks and self.min_results > self.tasks:
                raise PackageError(
                    f"min_results ({self.min_results}) must not be above the {self.tasks} tasks"
                    " of a round"
                )
            return
        if self.rounds > 1:
            raise PackageError(
                f"rounds = {self.rounds} needs an aggregate command ([job] aggregate or "
                "--aggregate): it makes each round's model from the round's results"
            )
        for name in ("min_results", "round_deadline_s"):
            if getattr(self, name):
                raise PackageError(
                    f"{name} needs an aggregate command ([job] aggregate or --aggregate)"
                )


@dataclass
class JobPackage:
    source: Path  # the folder or zip the user named
    spec: JobSpec
    warnings: list[str] = field(default_factory=list)

    @property
    def is_zip(self) -> bool:
        return self.source.is_file()


def _require_int(name: str, value: Any, low: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise PackageError(f"{name} must be a whole number, not {value!r}")
    if value < low:
        raise PackageError(f"{name} must be at least {low}, not {value}")


def load_package(path: Path | str) -> JobPackage:
    """Reads the package at `path` (folder or zip) and its hivemind.toml."""
    source = Path(path).expanduser()
    if source.is_dir():
        manifest = source / MANIFEST
        if not manifest.is_file():
            raise PackageError(f"{source} has no {MANIFEST} at its root")
        try:
            raw = manifest.read_bytes()
        except OSError as exc:
            raise PackageError(f"cannot read {manifest}: {exc.strerror or exc}") from None
        default_name = source.resolve().name
    elif source.is_file():
        raw = _manifest_from_zip(source)
        default_name = source.stem
    else:
        raise PackageError(f"no such package: {source} (give a folder or a .zip)")
    spec, warnings = parse_manifest(raw, default_name, where=str(source / MANIFEST))
    return JobPackage(source=source, spec=spec, warnings=warnings)


def _manifest_from_zip(path: Path) -> bytes:
    try:
        with zipfile.ZipFile(path) as archive:
            for name in archive.namelist():
                pure = PurePosixPath(name)
                if name.startswith(("/", "\\")) or ".." in pure.parts or ":" in pure.parts[0]:
                    raise PackageError(f"{path}: entry {name!r} would escape the package")
            try:
                info = archive.getinfo(MANIFEST)
            except KeyError:
                raise PackageError(f"{path} has no {MANIFEST} at its root") from None
            if info.file_size > MAX_MANIFEST_BYTES:
                raise PackageError(f"{path}: {MANIFEST} is larger than 256 KiB")
            return archive.read(info)
    except zipfile.BadZipFile:
        raise PackageError(f"{path} is not a zip file (give a folder or a .zip)") from None
    except OSError as exc:
        raise PackageError(f"cannot read {path}: {exc.strerror or exc}") from None


def parse_manifest(raw: bytes, default_name: str, where: str = MANIFEST) -> tuple[JobSpec, list]:
    """(spec, warnings) from the bytes of a hivemind.toml."""
    try:
        doc = bounded_toml.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise PackageError(f"{where} is not UTF-8 text") from None
    except bounded_toml.TomlError as exc:
        raise PackageError(f"{where} is {exc}") from None
    job = doc.get("job")
    if not isinstance(job, dict):
        raise PackageError(f"{where} has no [job] table (it needs at least command)")
    resources = doc.get("resources", {})
    if not isinstance(resources, dict):
        raise PackageError(f"{where}: [resources] must be a table")
    warnings = [f"{where}: unknown key [job] {k} ignored" for k in sorted(set(job) - _JOB_KEYS)]
    warnings += [
        f"{where}: unknown key [resources] {k} ignored"
        for k in sorted(set(resources) - _RESOURCE_KEYS)
    ]
    warnings += [
        f"{where}: unknown table [{k}] ignored" for k in sorted(set(doc) - {"job", "resources"})
    ]
    if "command" not in job:
        raise PackageError(f'{where}: [job] needs command, e.g. command = ["python", "main.py"]')
    values: dict[str, Any] = {
        k: job[k] for k in _JOB_KEYS & set(job) - {"max_cost", "compare", "aggregate"}
    }
    values.update({k: resources[k] for k in _RESOURCE_KEYS & set(resources)})
    if "max_cost" in job:
        try:
            values["max_cost_ucpt"] = parse_cpt(job["max_cost"])
        except ValueError as exc:
            raise PackageError(f"{where}: max_cost: {exc}") from None
    for key in ("name", "runtime"):
        if key in values and not isinstance(values[key], str):
            raise PackageError(f"{where}: [job] {key} must be a string")
    if not isinstance(values["command"], list):
        raise PackageError(
            f'{where}: command must be a list of strings, e.g. command = ["python", "main.py"]'
        )
    if "compare" in job:
        if not isinstance(job["compare"], list) or not job["compare"]:
            raise PackageError(
                f"{where}: compare must be a non-empty list of strings, "
                'e.g. compare = ["python3", "compare.py"]'
            )
        values["compare_command"] = job["compare"]
    if "aggregate" in job:
        if not isinstance(job["aggregate"], list) or not job["aggregate"]:
            raise PackageError(
                f"{where}: aggregate must be a non-empty list of strings, "
                'e.g. aggregate = ["python3", "merge.py"]'
            )
        values["aggregate_command"] = job["aggregate"]
    values.setdefault("name", default_name)
    spec = JobSpec(**values)
    try:
        spec.validate()
    except PackageError as exc:
        raise PackageError(f"{where}: {exc}") from None
    return spec, warnings


def build_package_zip(
    folder: Path | str, dest: Path | str, warn: Callable[[str], None] | None = None
) -> Path:
    """Zips `folder` into `dest` deterministically; skips __pycache__, .git, symlinks and
    special files (each with a warning). Returns `dest`."""
    root = Path(folder)
    dest = Path(dest)
    if not (root / MANIFEST).is_file():
        raise PackageError(f"{root} has no {MANIFEST} at its root")
    dest_resolved = dest.resolve()
    tell = warn or (lambda text: None)
    entries: list[tuple[str, Path, int]] = []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        here = Path(dirpath)
        kept = []
        for name in sorted(dirnames):
            full = here / name
            if name in SKIPPED_DIRS:
                continue
            if full.is_symlink():
                tell(f"skipping symlink {full.relative_to(root).as_posix()} (not packaged)")
                continue
            kept.append(name)
        dirnames[:] = kept  # os.walk descends only into these, in this order
        for name in sorted(filenames):
            full = here / name
            relative = full.relative_to(root).as_posix()
            info = full.lstat()
            if stat.S_ISLNK(info.st_mode):
                tell(f"skipping symlink {relative} (not packaged)")
            elif not stat.S_ISREG(info.st_mode):
                tell(f"skipping special file {relative} (not packaged)")
            elif full.resolve() != dest_resolved:
                entries.append((relative, full, info.st_mode))
    entries.sort(key=lambda entry: entry[0])
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(dest.name + ".tmp")
    with zipfile.ZipFile(tmp, "w", allowZip64=True) as archive:
        for relative, full, mode in entries:
            entry = zipfile.ZipInfo(relative, date_time=FIXED_ZIP_TIME)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.create_system = 3  # unix: the modes below mean the same on every OS
            executable = mode & 0o111
            entry.external_attr = ((0o100755 if executable else 0o100644) & 0xFFFF) << 16
            entry.file_size = full.stat().st_size
            with open(full, "rb") as src, archive.open(entry, "w") as out:
                while chunk := src.read(_COPY_BYTES):
                    out.write(chunk)
    os.replace(tmp, dest)
    return dest


def archive_for_upload(
    package: JobPackage, workdir: Path, warn: Callable[[str], None] | None = None
) -> Path:
    """The zip to upload: the user's zip as is, or a deterministic zip of their folder."""
    if package.is_zip:
        return package.source
    return build_package_zip(package.source, Path(workdir) / "package.zip", warn)
