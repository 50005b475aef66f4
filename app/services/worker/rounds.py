"""Tasks of a job with rounds: what a lease of a round brings besides the package and input.

Every task of a round gets the round's model, the previous round's accepted aggregate output
(a RESULT artifact), unpacked read-only in work_dir/model (HIVEMIND_MODEL; none in round 0).
The round's aggregate also gets every accepted output of the round, each unpacked read-only
in work_dir/results/<task index> with the indexes zero-padded to one width so they sort as
numbers (HIVEMIND_RESULTS); an output that is empty (the task wrote nothing) is an empty
folder. They come the way packages and inputs do (local cache, BitTorrent first, gRPC
fallback, digest verified). What the aggregate writes to /output is the next round's model.

`attempt` drives the attempt; this module holds what differs for a round.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from pathlib import Path

from app.services.unpack import make_read_only, safe_extract
from app.services.worker.compare import FetchResult
from proto.hivemind.v1 import node_pb2

log = logging.getLogger("app.services.worker.agent")

MODEL_DIR = "model"
OUTPUTS_DIR = "results"


def is_aggregate(lease: node_pb2.TaskLease) -> bool:
    return lease.HasField("aggregate")


@dataclass(frozen=True)
class PlacedRound:
    """The model and (for an aggregate) the round's outputs, unpacked read-only."""

    model_dir: Path | None
    outputs_dir: Path | None
    unpacked_bytes: int

    @property
    def disk_mb(self) -> int:
        """Room the disk cap must add for them (rounded up to whole MB)."""
        return -(-self.unpacked_bytes // (1024 * 1024))


def output_folder_names(indexes: list[int]) -> list[str]:
    """Each task index as a folder name, zero-padded to the widest: [0, 12] -> 00, 12."""
    width = max((len(str(index)) for index in indexes), default=1)
    return [str(index).zfill(width) for index in indexes]


async def place_round(
    lease: node_pb2.TaskLease, work_dir: Path, fetch: FetchResult, tag: str = ""
) -> PlacedRound:
    """Fetches and unpacks the lease's model and outputs under `work_dir` (see the module
    docstring). Raises what fetching and unpacking raise (TransferError, ClientError,
    UnsafeArchive, OSError, ValueError)."""
    unpacked = 0
    model_dir = None
    if lease.model_digest:
        model_dir = work_dir / MODEL_DIR
        unpacked += await _unpack(await fetch(lease.model_digest), model_dir)
    outputs_dir = None
    if is_aggregate(lease):
        outputs = list(lease.aggregate.outputs)
        log.info("%s aggregating %d outputs of round %d", tag, len(outputs), lease.round)
        indexes = [output.task_index for output in outputs]
        if len(set(indexes)) != len(indexes) or any(index < 0 for index in indexes):
            raise ValueError("the server sent an aggregate with repeated or negative indexes")
        outputs_dir = work_dir / OUTPUTS_DIR
        names = output_folder_names(indexes)
        for output, name in zip(outputs, names, strict=True):
            target = outputs_dir / name
            if output.digest:
                unpacked += await _unpack(await fetch(output.digest), target)
            else:
                await asyncio.to_thread(target.mkdir, parents=True)
        await asyncio.to_thread(outputs_dir.mkdir, parents=True, exist_ok=True)
        await asyncio.to_thread(make_read_only, outputs_dir)
    return PlacedRound(model_dir, outputs_dir, unpacked)


async def _unpack(archive: Path, target: Path) -> int:
    """Extracts `archive` (checked by safe_extract) into `target`, read-only; the bytes."""

    def unpack() -> int:
        written = sum(path.stat().st_size for path in safe_extract(archive, target))
        make_read_only(target)
        return written

    return await asyncio.to_thread(unpack)
