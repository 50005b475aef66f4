"""The node's CPU benchmark: deterministic work, a positive score, a cache that holds while
the hardware stays the same and is measured again when it changes."""

from __future__ import annotations

import json

import pytest

from app.services.worker import benchmark
from app.services.worker.benchmark import (
    hardware_fingerprint,
    node_score,
    node_score_async,
    run_benchmark,
    work_unit,
)

SHORT_S = 0.2


def test_work_is_deterministic():
    assert work_unit(7) == work_unit(7)
    assert work_unit(7) != work_unit(8)
    result = run_benchmark(SHORT_S)
    replayed = 0
    for unit in range(result.units):
        replayed = (replayed * 33 + work_unit(unit)) & 0xFFFFFFFF
    assert replayed == result.checksum


def test_short_run_gives_a_plausible_score():
    result = run_benchmark(SHORT_S)
    assert result.score >= 1
    assert result.units >= benchmark.SLICES
    assert SHORT_S <= result.seconds < SHORT_S + 1.0
    assert result.fingerprint == hardware_fingerprint()
    assert not result.cached


def test_bad_duration_is_refused():
    with pytest.raises(ValueError, match="benchmark duration must be positive"):
        run_benchmark(0)


def test_score_is_cached_per_hardware(tmp_path, monkeypatch):
    cache = tmp_path / "home" / "benchmark.json"
    first = node_score(cache, duration_s=SHORT_S)
    assert not first.cached
    saved = json.loads(cache.read_text())
    assert saved["score"] == first.score
    assert saved["fingerprint"] == hardware_fingerprint()

    again = node_score(cache, duration_s=SHORT_S)
    assert again.cached
    assert again.score == first.score and again.measured_at == first.measured_at

    # New hardware (here: another CPU model) -> measured again and the cache replaced.
    monkeypatch.setattr(benchmark, "cpu_model", lambda: "Imaginary CPU 9000")
    moved = node_score(cache, duration_s=SHORT_S)
    assert not moved.cached
    assert moved.fingerprint != first.fingerprint
    assert json.loads(cache.read_text())["fingerprint"] == moved.fingerprint


def test_unreadable_cache_or_force_measures_again(tmp_path):
    cache = tmp_path / "benchmark.json"
    cache.write_text("{not json")
    result = node_score(cache, duration_s=SHORT_S)
    assert not result.cached
    assert node_score(cache, duration_s=SHORT_S).cached
    assert not node_score(cache, duration_s=SHORT_S, force=True).cached


async def test_async_variant_runs_off_the_loop(tmp_path):
    result = await node_score_async(tmp_path / "benchmark.json", duration_s=SHORT_S)
    assert result.score >= 1
