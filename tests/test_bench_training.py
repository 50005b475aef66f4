"""bench/training.py's arithmetic, without a network: the bytes a training job moved, counted
from what its submitter sees (`job status`), and the issue's targets judged on its JSON line."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from proto.hivemind.v1 import common_pb2, job_pb2

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def training():
    # The bench puts examples/train on sys.path for its imports; the rest of the suite
    # should not see it.
    path, modules = list(sys.path), set(sys.modules)
    spec = importlib.util.spec_from_file_location("bench_training", ROOT / "bench" / "training.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_training"] = module  # its dataclasses look themselves up there
    spec.loader.exec_module(module)
    yield module
    sys.path[:] = path
    for name in set(sys.modules) - modules:
        if name in ("local_run", "bench_training"):
            del sys.modules[name]


def task(round_index: int, *, size: int, attempts: int = 1, aggregate: bool = False, done=True):
    state = common_pb2.TASK_STATE_DONE if done else common_pb2.TASK_STATE_CANCELLED
    return job_pb2.Task(
        round=round_index,
        index=-1 if aggregate else 0,
        aggregate=aggregate,
        attempts=attempts,
        result_size=size if done else 0,
        state=state,
    )


def test_bytes_exchanged_counts_models_in_and_updates_out_per_lease(training):
    detail = job_pb2.JobDetail(
        job=job_pb2.Job(state=common_pb2.JOB_STATE_DONE),
        rounds=[job_pb2.Round(round=0, result_size=1000), job_pb2.Round(round=1, result_size=1100)],
        tasks=[
            # Round 0: no model yet; two updates of 10 bytes, one leased twice (its first
            # worker died), and one cancelled straggler that uploaded nothing.
            task(0, size=10),
            task(0, size=10, attempts=2),
            task(0, size=0, done=False),
            # The aggregate, on two owners' nodes: every accepted update in, a model out.
            task(0, size=1000, attempts=2, aggregate=True),
            # Round 1 starts from round 0's model (1000 bytes).
            task(1, size=10),
            task(1, size=10),
            task(1, size=1100, attempts=2, aggregate=True),
        ],
    )
    run = training.NetworkRun("honest", detail, seconds=1.0)
    round0 = 10 + 2 * 10 + 0 + 2 * (20 + 1000)
    round1 = (1000 + 10) * 2 + 2 * (1000 + 20 + 1100)
    assert run.bytes_exchanged() == round0 + round1


def result_line(**changes):
    line = {
        "accuracy": 0.975,
        "baseline_accuracy": 0.98,
        "dropout_accuracy": 0.965,
        "poisoned_accuracy": 0.961,
        "bytes_exchanged": 1_000,
        "sync_bytes_equivalent": 50_000,
    }
    return {**line, **changes}


def test_targets_are_the_issues_and_only_for_the_runs_asked_for(training):
    every = ["honest", "dropout", "poisoned"]
    assert training.targets_met(result_line(), every)
    # Each target on its own: accuracy within 0.01, the others within 0.02, 50x fewer bytes.
    assert not training.targets_met(result_line(accuracy=0.969), every)
    assert not training.targets_met(result_line(dropout_accuracy=0.959), every)
    assert not training.targets_met(result_line(poisoned_accuracy=0.959), every)
    assert not training.targets_met(result_line(bytes_exchanged=1_001), every)
    # A run that was asked for and did not finish (no accuracy) misses its target...
    assert not training.targets_met(result_line(poisoned_accuracy=None), every)
    # ... and one that was not asked for is not judged.
    assert training.targets_met(result_line(poisoned_accuracy=None), ["honest", "dropout"])
