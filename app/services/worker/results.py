"""A task's result on the worker's disk: the /output folder packed as a deterministic zip, and
the report (complete or fail) kept in a small JSON file until the server acknowledges it, so
a worker that crashes or loses the server mid-report sends it again on its next start.

Everything here blocks (file I/O): call it through `asyncio.to_thread`.
"""

from __future__ import annotations

import json
import logging
import os
import stat
import zipfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

from app.services.unpack import ArchiveLimits, remove_tree

log = logging.getLogger(__name__)

# Fixed timestamp: the same output gives the same zip, so replicas' digests agree.
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
# Files one result may hold: what a submitter's client unpacks (app/services/unpack.py).
MAX_RESULT_FILES = ArchiveLimits().max_entries


class OutputTooLarge(ValueError):
    """The task's output cannot be a result; the message says why, in one line."""


def pack_output(output_dir: Path, zip_path: Path, max_files: int = MAX_RESULT_FILES) -> int:
    """Packs the regular files under `output_dir` into `zip_path` (sorted entries, fixed
    times and modes). Symlinks and special files are skipped: a task must not make the worker
    read files outside its output. Returns how many files were packed (0 = no output).
    OutputTooLarge when the output holds more than `max_files` files (nothing is packed)."""
    files: list[tuple[str, Path, bool]] = []
    root = Path(output_dir)
    for dirpath, dirnames, filenames in os.walk(root):
        # Never descend through a symlinked folder.
        dirnames[:] = sorted(d for d in dirnames if not os.path.islink(os.path.join(dirpath, d)))
        if len(files) + len(filenames) > max_files:
            raise OutputTooLarge(
                f"the task wrote more than {max_files} files to its output; a result holds at"
                f" most {max_files} (pack them into fewer files)"
            )
        for name in filenames:
            path = Path(dirpath) / name
            mode = os.lstat(path).st_mode
            if not stat.S_ISREG(mode):
                log.warning("result: skipped %s (not a regular file)", path.relative_to(root))
                continue
            files.append((path.relative_to(root).as_posix(), path, bool(mode & 0o111)))
    files.sort()
    tmp = zip_path.with_name(zip_path.name + ".tmp")
    zip_path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
        for name, path, executable in files:
            info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = ((0o100755 if executable else 0o100644) & 0xFFFF) << 16
            with open(path, "rb") as source, archive.open(info, "w") as target:
                while chunk := source.read(1024 * 1024):
                    target.write(chunk)
    os.replace(tmp, zip_path)
    return len(files)


@dataclass
class PendingReport:
    """One attempt's outcome, waiting for the server's acknowledgement: `ok` is sent as a
    completion (with `exit_code`), anything else as a failure. A comparison completes
    with exit code 0 (results equivalent) or 1 (different) and never has a result."""

    attempt_id: str
    job_id: str
    task_index: int
    ok: bool
    exit_code: int
    log: str = ""
    error: str = ""
    cpu_seconds: float = 0.0
    wall_seconds: float = 0.0
    peak_memory_mb: int = 0
    result_zip: str = ""  # path of the packed output; empty when there was none
    result_digest: str = ""  # set once uploaded
    result_size: int = 0
    extra: dict[str, str] = field(default_factory=dict)
    comparison: bool = False  # the attempt compared two results (kept so events still say so)


class PendingReports:
    """`<dir>/<attempt id>.json` per unacknowledged report."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)

    def _path(self, attempt_id: str) -> Path:
        if not attempt_id or "/" in attempt_id or "\\" in attempt_id or attempt_id[0] == ".":
            raise ValueError(f"bad attempt id {attempt_id!r}")
        return self.directory / f"{attempt_id}.json"

    def save(self, report: PendingReport) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self._path(report.attempt_id)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(json.dumps(asdict(report)))
        os.replace(tmp, path)

    def remove(self, report: PendingReport) -> None:
        self._path(report.attempt_id).unlink(missing_ok=True)
        if report.result_zip:
            Path(report.result_zip).unlink(missing_ok=True)

    def load_all(self) -> list[PendingReport]:
        reports = []
        if not self.directory.is_dir():
            return reports
        for path in sorted(self.directory.glob("*.json")):
            try:
                reports.append(PendingReport(**json.loads(path.read_text())))
            except (OSError, ValueError, TypeError) as exc:
                log.warning("dropping unreadable pending report %s: %s", path.name, exc)
                path.unlink(missing_ok=True)
        return reports


def clear_leftovers(work_root: Path, results_root: Path, pending: PendingReports) -> None:
    """Removes what an earlier run left: work dirs are useless (those leases expire), and
    packed results are kept only when a pending report still needs them."""
    remove_tree(work_root)  # the package folders in there are read-only
    keep = {report.result_zip for report in pending.load_all()}
    if results_root.is_dir():
        for path in results_root.iterdir():
            if str(path) not in keep:
                path.unlink(missing_ok=True)
