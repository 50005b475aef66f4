"""Sign-ups are limited per network, not per address: 100 accounts opened from 100 addresses of
one IPv4 /24, then from 100 addresses of one IPv6 /48 (a /64 each, as one home or one cloud
machine has), within the hour. Real server, real connections from those addresses, inside a
network namespace this test creates (tests/security/signup_farm.py)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.kit.ci import unavailable

FARM = Path(__file__).with_name("signup_farm.py")
CAP = 10


@pytest.fixture(scope="module")
def namespace() -> list[str]:
    """The command prefix that runs a program in a new network namespace of its own."""
    if not shutil.which("unshare") or not shutil.which("ip"):
        unavailable("network namespace", "needs `unshare` (util-linux) and `ip` (iproute2)")
    probe = subprocess.run(
        ["unshare", "-rn", "ip", "link", "set", "lo", "up"], capture_output=True, text=True
    )
    if probe.returncode != 0:
        unavailable("network namespace", f"unshare -rn is not allowed here: {probe.stderr}")
    return ["unshare", "-rn"]


def run_farm(namespace: list[str], *args: str) -> dict:
    done = subprocess.run(
        [*namespace, sys.executable, str(FARM), *args],
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


def test_a_hundred_sign_ups_from_one_network_open_only_the_cap(namespace):
    report = run_farm(namespace, "--per-hour", str(CAP), "--signups", "100")
    for family in ("ipv4", "ipv6"):
        farm = report[family]
        assert (farm["opened"], farm["refused"]) == (CAP, 100 - CAP), family
        assert farm["refusal"].startswith(
            "RESOURCE_EXHAUSTED: too many new accounts from your network; try again in"
        )
        # Another network is not held back by the farm.
        assert farm["other_network"] == "opened", family
    assert report["ledger_ok"]
