"""Comparisons: a lease that asks this node to judge whether two replicas' results of
a task agree, by running the job's compare command on both, instead of running the task.

The two RESULT artifacts come the way packages and inputs do (local cache, BitTorrent first,
gRPC fallback, digest verified) and are unpacked read-only beside the package, in
work_dir/results/a and work_dir/results/b; a replica that produced no output (empty digest)
gives an empty folder. The command's exit code is the verdict: 0 equivalent, 1 different,
both sent as completions without a result; anything else (another code, a timeout, a limit)
fails the attempt and the server retries it elsewhere. The comparison's /output is never kept.

`attempt` drives the attempt; this module holds what differs for a comparison.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from app.services.executors.base import ExecutionResult
from app.services.unpack import make_read_only, safe_extract
from app.services.worker.results import PendingReport
from proto.hivemind.v1 import node_pb2

log = logging.getLogger("app.services.worker.agent")

# Downloaded result zips live with the cached inputs (as <digest>.zip): the cache's LRU
# (cache.CACHED_KINDS) evicts them there, while cache_dir/results holds this node's
# own packed results waiting to be reported, which a restart clears.
RESULTS_CACHE_KIND = "inputs"
RESULT_ZIP_SUFFIX = ".zip"

EQUIVALENT = 0  # the compare command's exit code when the results agree
DIFFERENT = 1  # ... and when they do not; any other code is a failure of the comparison

FetchResult = Callable[[str], Awaitable[Path]]  # digest -> the verified zip on this disk


def is_comparison(lease: node_pb2.TaskLease) -> bool:
    return lease.HasField("comparison")


@dataclass(frozen=True)
class PlacedResults:
    """The two results unpacked for a comparison."""

    dirs: tuple[Path, Path]  # results/a, results/b (read-only)
    unpacked_bytes: int  # both together

    @property
    def disk_mb(self) -> int:
        """Room the disk cap must add for them (rounded up to whole MB)."""
        return -(-self.unpacked_bytes // (1024 * 1024))


async def place_results(
    comparison: node_pb2.ResultComparison, work_dir: Path, fetch: FetchResult, tag: str = ""
) -> PlacedResults:
    """Fetches both results and unpacks each (checked by `safe_extract`) into its folder under
    `work_dir/results`. Raises what fetching and unpacking raise (TransferError, ClientError,
    UnsafeArchive, OSError, ValueError)."""
    log.info(
        "%s comparing results a=%s b=%s",
        tag,
        comparison.result_a_digest[:12] or "(none)",
        comparison.result_b_digest[:12] or "(none)",
    )
    root = work_dir / "results"
    dirs = (root / "a", root / "b")
    digests = (comparison.result_a_digest, comparison.result_b_digest)
    unpacked = 0
    for digest, target in zip(digests, dirs, strict=True):
        if digest:
            archive = await fetch(digest)
            unpacked += await asyncio.to_thread(_unpack, archive, target)
        else:
            # That replica wrote nothing to /output: the compare command sees an empty folder.
            await asyncio.to_thread(target.mkdir, parents=True)
        await asyncio.to_thread(make_read_only, target)
    return PlacedResults(dirs, unpacked)


def _unpack(archive: Path, target: Path) -> int:
    """Blocking: extracts `archive` into `target`; returns the bytes written."""
    return sum(path.stat().st_size for path in safe_extract(archive, target))


def verdict_report(lease: node_pb2.TaskLease, result: ExecutionResult) -> PendingReport:
    """The report of a comparison that ran: a completion with exit code 0 or 1 (no result)
    when the command reached a verdict, else a failure saying why it did not."""
    report = PendingReport(
        attempt_id=lease.attempt_id,
        job_id=lease.job_id,
        task_index=lease.task_index,
        ok=False,
        exit_code=result.exit_code if result.exit_code is not None else -1,
        log=result.log,
        cpu_seconds=result.cpu_seconds,
        wall_seconds=result.wall_seconds,
        peak_memory_mb=result.peak_memory_mb,
        comparison=True,
    )
    if result.ok:
        report.ok, report.exit_code = True, EQUIVALENT
    elif result.exit_code == DIFFERENT and result.ended_by_itself:
        # Not a failure: the command ran and found the results different.
        report.ok, report.exit_code = True, DIFFERENT
    else:
        reason = result.error or f"exited with code {report.exit_code}"
        report.error = f"compare command: {reason}"
    return report
