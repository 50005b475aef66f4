"""The node's CPU score: a short single-core benchmark, pure Python and deterministic.

The work is the kind task code does (integer arithmetic, sorting, dicts, strings), repeated in
fixed units for about two seconds; the score is units per second (of the fastest fifth of
the run) normalised so that the
reference machine scores about 1000 (twice as fast, about 2000). The result is cached in a
file with a fingerprint of the hardware, and measured again when the hardware changes (or the
benchmark or the Python minor version does, since both move the numbers).

Blocking (it is the benchmark): call `node_score` from a thread, or `await node_score_async`.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import platform
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from app.services.monitor import cpu_model

log = logging.getLogger(__name__)

BENCHMARK_VERSION = 1
DEFAULT_DURATION_S = 2.0
# Units per second of the reference machine (the project's 2-core CI machine, Python 3.11):
# it scores 1000.
REFERENCE_UNITS_PER_S = 1450.0
REFERENCE_SCORE = 1000
# The run is cut into slices and the fastest one counts: other programs on the machine can
# only slow a slice down, so the best slice is the closest to what the CPU can do.
SLICES = 5
_MASK = 0xFFFFFFFF


@dataclass(frozen=True)
class BenchmarkResult:
    score: int
    units: int
    seconds: float
    checksum: int  # the same number of units always gives the same checksum
    fingerprint: str
    measured_at: float  # Unix time
    cached: bool = False


def work_unit(seed: int) -> int:
    """One fixed piece of work; returns a number that depends on every step of it."""
    x = (seed * 2654435761) & _MASK or 1
    values = []
    for _ in range(1000):
        # xorshift32: integer arithmetic with no library help
        x ^= (x << 13) & _MASK
        x ^= x >> 17
        x ^= (x << 5) & _MASK
        values.append(x % 100_003)
    values.sort()
    counts: dict[int, int] = {}
    for value in values:
        counts[value % 101] = counts.get(value % 101, 0) + 1
    text = ",".join(str(value) for value in values[::8])
    digest = sum(ord(ch) for ch in text[-64:])
    return (values[len(values) // 2] * 31 + max(counts.values()) * 7 + len(text) + digest) & _MASK


def run_benchmark(duration_s: float = DEFAULT_DURATION_S) -> BenchmarkResult:
    """Runs work units on this thread for about `duration_s` seconds and scores the rate."""
    if not duration_s > 0:
        raise ValueError(f"benchmark duration must be positive (got {duration_s})")
    work_unit(0)  # warm the interpreter's caches before the clock starts
    units = 0
    checksum = 0
    best_rate = 0.0
    started = time.perf_counter()
    slice_s = duration_s / SLICES
    for _ in range(SLICES):
        slice_started = time.perf_counter()
        slice_units = 0
        while True:
            checksum = (checksum * 33 + work_unit(units)) & _MASK
            units += 1
            slice_units += 1
            now = time.perf_counter()
            if now - slice_started >= slice_s:
                break
        best_rate = max(best_rate, slice_units / (now - slice_started))
    seconds = now - started
    score = round(best_rate / REFERENCE_UNITS_PER_S * REFERENCE_SCORE)
    return BenchmarkResult(
        score=max(1, score),
        units=units,
        seconds=round(seconds, 4),
        checksum=checksum,
        fingerprint=hardware_fingerprint(),
        measured_at=time.time(),
    )


def hardware_fingerprint() -> str:
    """What the score depends on: CPU model and count, architecture, OS, Python minor
    version, benchmark version. A change of any of these means "measure again"."""
    facts = {
        "cpu": cpu_model(),
        "cpus": os.cpu_count() or 1,
        "arch": platform.machine(),
        "os": platform.system(),
        "python": f"{sys.implementation.name}-{sys.version_info.major}.{sys.version_info.minor}",
        "benchmark": BENCHMARK_VERSION,
    }
    return hashlib.sha256(json.dumps(facts, sort_keys=True).encode()).hexdigest()[:32]


def node_score(
    cache_file: Path,
    *,
    duration_s: float = DEFAULT_DURATION_S,
    force: bool = False,
) -> BenchmarkResult:
    """The cached score when the cache was made on this hardware, else a fresh measurement
    (saved to `cache_file`). Blocking."""
    cache_file = Path(cache_file)
    fingerprint = hardware_fingerprint()
    if not force:
        cached = _read_cache(cache_file)
        if cached is not None and cached.fingerprint == fingerprint:
            return cached
    result = run_benchmark(duration_s)
    _write_cache(cache_file, result)
    log.info("benchmark score=%d units=%d seconds=%.2f", result.score, result.units, result.seconds)
    return result


def cached_result(cache_file: Path) -> BenchmarkResult | None:
    """The saved result when it was measured on this hardware, else None. Cheap (one small
    file), so a node can report its score at once and measure only when it must."""
    cached = _read_cache(Path(cache_file))
    if cached is None or cached.fingerprint != hardware_fingerprint():
        return None
    return cached


async def node_score_async(
    cache_file: Path, *, duration_s: float = DEFAULT_DURATION_S, force: bool = False
) -> BenchmarkResult:
    """`node_score` off the event loop."""
    return await asyncio.to_thread(node_score, cache_file, duration_s=duration_s, force=force)


def _read_cache(cache_file: Path) -> BenchmarkResult | None:
    try:
        data = json.loads(cache_file.read_text())
        data.pop("cached", None)
        result = BenchmarkResult(**data, cached=True)
    except FileNotFoundError:
        return None
    except (OSError, ValueError, TypeError) as exc:
        log.warning("ignoring unreadable benchmark cache %s: %s", cache_file, exc)
        return None
    if not isinstance(result.score, int) or result.score < 1:
        return None
    return result


def _write_cache(cache_file: Path, result: BenchmarkResult) -> None:
    data = asdict(result)
    data.pop("cached")
    try:
        cache_file.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, indent=2))
        os.replace(tmp, cache_file)
    except OSError as exc:  # a read-only home costs a re-run next time, nothing more
        log.warning("cannot save benchmark cache %s: %s", cache_file, exc)
