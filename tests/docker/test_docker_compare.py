"""Comparisons (issue 6) in the Docker runtime image: the two results are mounted read-only at
/results/a and /results/b, the package at /task, and the compare command's exit code is the
verdict. Artifacts come from a real server; the attempt reports go to the recording fake of
tests/worker/test_worker_compare.py (the server does not lease comparisons yet).

Skips locally without dockerd or the image; fails under CI=true (see conftest.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.services.executors.docker.config import build_plan
from tests.kit.comparison_bench import COMPARE, ComparisonBench
from tests.kit.network import Network

pytestmark = pytest.mark.docker


@pytest.fixture
async def bench(server, tmp_path: Path):
    network = Network(tmp_path)
    try:
        yield await ComparisonBench(server, network, tmp_path).open()
    finally:
        await network.close()


async def test_results_are_mounted_read_only_and_equivalent_completes(bench, executor):
    a = await bench.result({"value.json": '{"value": 0.1}'})
    b = await bench.result({"value.json": '{"value": 0.10000000001}'})
    lease = await bench.lease(a, b, command=[*COMPARE, "--try-write"])

    nodes, _ = await bench.compare(lease, executor)

    assert nodes.failures == []
    (completion,) = nodes.completions
    assert completion.exit_code == 0 and completion.result_digest == ""
    assert "results at /results/a /results/b input: ''" in completion.log
    assert "cannot write to /results/a: Read-only file system" in completion.log
    assert "value a=0.1 b=0.10000000001" in completion.log


async def test_different_and_crashing_comparisons_in_docker(bench, executor):
    one = await bench.result({"value.json": '{"value": 1.0}'})
    two = await bench.result({"value.json": '{"value": 2.0}'})
    broken = await bench.result({"value.json": "not json"})

    nodes, _ = await bench.compare(await bench.lease(one, two), executor)
    (completion,) = nodes.completions
    assert completion.exit_code == 1 and completion.result_digest == ""
    assert completion.stats.wall_seconds > 0

    nodes, _ = await bench.compare(await bench.lease(one, broken), executor)
    assert nodes.completions == []
    (failure,) = nodes.failures
    assert failure.exit_code == 3
    assert failure.error == "compare command: exited with code 3"
    assert "cannot compare: JSONDecodeError" in failure.log


async def test_empty_result_is_an_empty_mounted_folder(bench, executor):
    b = await bench.result({"value.json": '{"value": 1.0}'})

    nodes, _ = await bench.compare(await bench.lease(("", 0), b), executor)

    (completion,) = nodes.completions
    assert completion.exit_code == 1
    assert "files a: [] files b: ['value.json']" in completion.log


def test_plan_mounts_results_read_only_only_for_comparisons(make_spec, tmp_path: Path):
    results = (tmp_path / "results" / "a", tmp_path / "results" / "b")
    for folder in results:
        folder.mkdir(parents=True)
    comparison = build_plan(
        make_spec("pass", results_dirs=results), "img", instance="t", user=(1, 1)
    )
    mounts = {target: (host, read_only) for host, target, read_only in comparison.mounts}
    assert mounts["/results/a"] == (str(results[0].resolve()), True)
    assert mounts["/results/b"] == (str(results[1].resolve()), True)
    assert comparison.environment["HIVEMIND_RESULTS_A"] == "/results/a"
    assert comparison.environment["HIVEMIND_RESULTS_B"] == "/results/b"

    task = build_plan(make_spec("pass"), "img", instance="t", user=(1, 1))
    assert not any(target.startswith("/results") for _, target, _ in task.mounts)
    assert "HIVEMIND_RESULTS_A" not in task.environment
