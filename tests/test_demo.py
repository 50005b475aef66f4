"""`hivemind demo --json` as a user runs it: a real server subprocess, three users, two
workers, the π job; the answer is right and every CPT is accounted for."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
@pytest.mark.parametrize("executor", ["auto", "process"])
def test_demo_json_computes_pi_and_conserves_the_total(executor, tmp_path):
    env = dict(os.environ)
    env["HIVEMIND_HOME"] = str(tmp_path / "home")  # the demo must not need (or touch) it
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    done = subprocess.run(
        [sys.executable, "-m", "app.cli.main", "demo", "--json", "--executor", executor],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stdout.strip().splitlines()
    assert len(lines) == 1, done.stdout  # exactly one JSON object
    result = json.loads(lines[0])

    assert abs(result["pi"] - math.pi) < 0.01
    assert result["tasks_done"] == result["tasks_total"] == 8
    balances = result["balances"]
    assert set(balances) == {"alice", "bob", "carol"}
    grant = result["total_granted_ucpt"] // 3
    # The submitter paid exactly what the contributors earned; the rest came back.
    assert balances["alice"] == grant - result["cost_ucpt"]
    assert balances["bob"] + balances["carol"] == 2 * grant + result["cost_ucpt"]
    assert result["cost_ucpt"] > 0
    assert sum(balances.values()) == result["total_granted_ucpt"]
    assert result["escrow_ucpt"] == 0
    assert result["conserved"] is True
    assert result["ledger_ok"] is True
    if executor == "process":
        assert result["executor"] == "process"
        assert "WITHOUT a sandbox" in done.stderr
    # Nothing is left behind: no HiveMind home was created for the person running it.
    assert not (tmp_path / "home").exists()
