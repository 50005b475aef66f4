"""`hivemind demo` as a user runs it: a real server subprocess, four users, three workers,
the π job (merged on the network by its aggregate) and the replicated Monte Carlo job; π is
right and was merged by two owners' nodes, every replicated task was verified by two owners
and compared by the third, and every CPT is accounted for."""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.kit.paths import python_env

CONTRIBUTORS = {"bob", "carol", "dave"}


def run_demo(tmp_path: Path, *flags: str) -> subprocess.CompletedProcess[str]:
    # The demo must not need (or touch) a HiveMind home.
    env = python_env(HIVEMIND_HOME=str(tmp_path / "home"))
    done = subprocess.run(
        [sys.executable, "-m", "app.cli.main", "demo", *flags],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    # Nothing is left behind: no HiveMind home was created for the person running it.
    assert not (tmp_path / "home").exists()
    return done


@pytest.mark.slow
def test_demo_json_computes_pi_verifies_replicas_and_conserves_the_total(tmp_path):
    done = run_demo(tmp_path, "--json")
    lines = done.stdout.strip().splitlines()
    assert len(lines) == 1, done.stdout  # exactly one JSON object
    result = json.loads(lines[0])

    assert abs(result["pi"] - math.pi) < 0.01
    assert result["tasks_done"] == result["tasks_total"] == 8
    # merge.py ran on the network, on nodes of two owners whose estimates agreed.
    assert result["aggregate_command"] == ["python3", "merge.py"]
    assert len(result["merged_by"]) == 2 and set(result["merged_by"]) <= CONTRIBUTORS

    montecarlo = result["montecarlo"]
    assert montecarlo["example"] == "examples/montecarlo"
    assert montecarlo["replicas"] == 2
    assert montecarlo["compare_command"] == ["python3", "compare.py"]
    assert montecarlo["tasks_done"] == montecarlo["tasks_verified"] == 4
    assert [task["index"] for task in montecarlo["tasks"]] == [0, 1, 2, 3]
    for task in montecarlo["tasks"]:
        assert task["verification"] == "verified", task
        assert abs(task["estimate"] - math.pi) < 0.02, task
        # Two owners' results agreed; the third owner's node compared them.
        assert len(task["agreed"]) == 2 and set(task["agreed"]) <= CONTRIBUTORS, task
        assert task["compared_by"] and set(task["compared_by"]) <= CONTRIBUTORS, task
        assert not set(task["compared_by"]) & set(task["agreed"]), task

    balances = result["balances"]
    assert set(balances) == {"alice"} | CONTRIBUTORS
    grant = result["total_granted_ucpt"] // 4
    paid = result["cost_ucpt"] + montecarlo["cost_ucpt"]
    assert result["cost_ucpt"] > 0 and montecarlo["cost_ucpt"] > 0
    assert result["jobs_cost_ucpt"] == paid
    # The submitter paid exactly what the contributors earned for both jobs; the rest came back.
    assert balances["alice"] == grant - paid
    assert sum(balances[name] for name in CONTRIBUTORS) == 3 * grant + paid
    assert sum(result["earned"].values()) == paid
    assert sum(balances.values()) == result["total_granted_ucpt"]
    assert result["escrow_ucpt"] == 0
    assert result["conserved"] is True
    assert result["ledger_ok"] is True


@pytest.mark.slow
def test_demo_tells_a_newcomer_each_task_was_verified_with_the_process_executor(tmp_path):
    done = run_demo(tmp_path, "--executor", "process")
    out = done.stdout
    assert "WITHOUT a sandbox" in done.stderr
    assert "registered alice, bob, carol and dave" in out
    assert "workers of bob, carol and dave started (process)" in out
    assert re.search(
        r"π ≈ 3\.\d{6}  \(8 tasks on the process executor, merged on the network by "
        r"(bob|carol|dave) and (bob|carol|dave): `python3 merge\.py`\)",
        out,
    ), out
    assert "merged on the network by `python3 merge.py` on nodes of two owners" in out
    assert "job done: 4 of 4 tasks done, 4 verified" in out
    task_lines = re.findall(
        r"task (\d): π ≈ (\d\.\d{5}), verified \(2 owners agreed; compared by (bob|carol|dave)\)",
        out,
    )
    assert [index for index, _, _ in task_lines] == ["0", "1", "2", "3"], out
    assert all(abs(float(estimate) - math.pi) < 0.02 for _, estimate, _ in task_lines), out
    assert re.search(r"sum of balances (\S+) CPT = total granted \1 CPT: conserved", out), out
    assert "server ledger audit: ok" in out


def test_a_task_that_was_not_verified_says_so_plainly():
    from app.cli.demo import task_line

    failed = {"index": 3, "state": "failed", "verification": "", "estimate": None, "agreed": []}
    failed |= {"compared_by": [], "error": "no quorum: 3 results disagree"}
    assert task_line(failed) == "task 3: failed (no quorum: 3 results disagree)"
    lone = {"index": 1, "state": "done", "verification": "unverified", "estimate": 3.1415}
    lone |= {"agreed": ["bob"], "compared_by": [], "error": ""}
    assert task_line(lone) == "task 1: π ≈ 3.14150, unverified (result of bob)"
