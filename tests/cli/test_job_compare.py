"""Compare commands from the submitter's side (issue 6): `hivemind job submit` sends the
command and its timeout (from hivemind.toml or --compare/--compare-timeout) to a real server,
`hivemind job show` prints them, bad flags submit nothing; and examples/montecarlo's
compare.py, run as a real subprocess, judges pairs of results as a comparison node would."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.services.jobs.package import JobSpec
from app.services.jobs.submission import submit_request
from tests.kit.paths import EXAMPLES

MONTECARLO = EXAMPLES / "montecarlo"

MANIFEST = """\
[job]
name = "fuzzy"
runtime = "python-3.11"
command = ["python3", "main.py"]
tasks = 2
replicas = 2
compare = ["python3", "/task/compare.py"]
compare_timeout_s = 20

[resources]
cores = 1
memory_mb = 128
timeout_s = 60
"""


def make_package(root: Path, manifest: str = MANIFEST) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "hivemind.toml").write_text(manifest)
    (root / "main.py").write_text("print(1.0 / 3)\n")
    (root / "compare.py").write_text("raise SystemExit(0)\n")
    return root


async def job_count(cli, server) -> int:
    listed = await cli("job", "list", "--json", server=server)
    assert listed.code == 0, listed.stderr
    return len(listed.json()["jobs"])


def test_the_submit_request_carries_the_compare_command():
    spec = JobSpec(
        name="fuzzy",
        command=["python3", "main.py"],
        tasks=2,
        replicas=2,
        compare_command=["python3", "/task/compare.py", "--tol", "1e-6"],
        compare_timeout_s=20,
    )
    request = submit_request(spec, "ab" * 32, [])
    assert list(request.compare_command) == ["python3", "/task/compare.py", "--tol", "1e-6"]
    assert request.compare_timeout_s == 20

    # Without a timeout the server's default applies (0 on the wire); without a command the
    # results must be byte-identical, as before.
    request = submit_request(
        JobSpec(name="x", command=["x"], tasks=1, compare_command=["c"]), "ab" * 32, []
    )
    assert request.compare_timeout_s == 0
    request = submit_request(JobSpec(name="x", command=["x"], tasks=1), "ab" * 32, [])
    assert list(request.compare_command) == [] and request.compare_timeout_s == 0


async def test_submit_sends_the_manifest_compare_and_show_prints_it(
    server, cli, register, tmp_path
):
    await register(server, "alice")
    package = make_package(tmp_path / "pkg")

    submitted = await cli("job", "submit", str(package), "--json", server=server)

    assert submitted.code == 0, submitted.stderr
    assert "note:" not in submitted.stderr  # replicas = 2: every task is compared
    job = submitted.json()
    assert job["compare_command"] == ["python3", "/task/compare.py"]
    assert job["compare_timeout_s"] == 20

    shown = await cli("job", "show", job["job_id"], "--json", server=server)
    assert shown.code == 0, shown.stderr
    body = shown.json()
    assert body["compare_command"] == ["python3", "/task/compare.py"]
    assert body["compare_timeout_s"] == 20

    text = await cli("job", "show", job["job_id"], server=server)
    assert text.code == 0, text.stderr
    assert (
        "results compared with: python3 /task/compare.py (up to 20 s per comparison)" in text.stdout
    )


async def test_flags_override_the_manifest_and_one_replica_gets_a_note(
    server, cli, register, tmp_path
):
    await register(server, "alice")
    package = make_package(tmp_path / "pkg")

    submitted = await cli(
        "job", "submit", str(package), "--replicas", "1",
        "--compare", "python3 /task/compare.py --tolerance '1e-3 rel'",
        "--compare-timeout", "15", "--json", server=server,
    )  # fmt: skip

    assert submitted.code == 0, submitted.stderr
    notes = [line for line in submitted.stderr.splitlines() if line.startswith("note:")]
    assert len(notes) == 1 and "only when the server spot-checks" in notes[0]
    job = submitted.json()  # the note stays off stdout: still exactly one JSON line
    status = await cli("job", "status", job["job_id"], "--json", server=server)
    body = status.json()
    assert body["compare_command"] == ["python3", "/task/compare.py", "--tolerance", "1e-3 rel"]
    assert body["compare_timeout_s"] == 15 and body["replicas"] == 1


async def test_a_job_without_compare_shows_none(server, cli, register, tmp_path):
    await register(server, "alice")
    manifest = MANIFEST.replace('compare = ["python3", "/task/compare.py"]\n', "").replace(
        "compare_timeout_s = 20\n", ""
    )
    package = make_package(tmp_path / "pkg", manifest)
    job = (await cli("job", "submit", str(package), "--json", server=server)).json()
    assert job["compare_command"] == [] and job["compare_timeout_s"] == 0
    text = await cli("job", "show", job["job_id"], server=server)
    assert text.code == 0, text.stderr
    assert "compared with" not in text.stdout


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--compare", "python3 'compare.py"], "--compare: No closing quotation"),
        (["--compare", "   "], "--compare needs a command"),
        (["--compare", "''"], "--compare needs a command"),
        (["--compare-timeout", "0"], "compare_timeout_s must be at least 1, not 0"),
        (["--compare-timeout", "90"], "compare_timeout_s (90) must not be above"),
        (["--compare-timeout", "30", "--timeout", "10"], "must not be above the task timeout_s"),
    ],
)
async def test_bad_compare_flags_submit_nothing(server, cli, register, tmp_path, flags, message):
    await register(server, "alice")
    package = make_package(tmp_path / "pkg")

    result = await cli("job", "submit", str(package), *flags, server=server)

    assert result.code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0]
    assert await job_count(cli, server) == 0


async def test_compare_timeout_without_a_command_is_refused(server, cli, register, tmp_path):
    await register(server, "alice")
    package = make_package(tmp_path / "pkg", "[job]\ncommand = ['python3', 'main.py']\ntasks=1\n")
    result = await cli("job", "submit", str(package), "--compare-timeout", "5", server=server)
    assert result.code == 1
    assert "compare_timeout_s needs a compare command" in result.stderr
    assert await job_count(cli, server) == 0


# -- examples/montecarlo/compare.py ----------------------------------------------------------


def run_example(script: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(MONTECARLO / script)],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def write_result(folder: Path, content: object) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    text = content if isinstance(content, str) else json.dumps(content)
    (folder / "result.json").write_text(text)
    return folder


def compare(a: Path, b: Path) -> subprocess.CompletedProcess:
    return run_example("compare.py", {"HIVEMIND_RESULTS_A": str(a), "HIVEMIND_RESULTS_B": str(b)})


def test_two_honest_runs_differ_in_bytes_but_compare_equivalent(tmp_path):
    outputs = []
    for name in ("a", "b"):
        out = tmp_path / name
        out.mkdir()
        run = run_example("main.py", {"HIVEMIND_OUTPUT": str(out), "HIVEMIND_TASK_INDEX": "0"})
        assert run.returncode == 0, run.stderr
        outputs.append(out)
    first, second = (json.loads((o / "result.json").read_text()) for o in outputs)
    assert first["samples"] == second["samples"] == 400_000
    assert abs(first["estimate"] - 3.14159) < 0.02
    # The seeds are fresh, so the bytes differ: a digest comparison would call these two right
    # answers different. (Their estimates may still be equal, about once in a thousand pairs;
    # the recorded seed keeps the results apart even then.)
    assert first["seed"] != second["seed"]
    assert (outputs[0] / "result.json").read_bytes() != (outputs[1] / "result.json").read_bytes()

    verdict = compare(*outputs)
    assert verdict.returncode == 0, verdict.stdout + verdict.stderr
    assert verdict.stdout.startswith("equivalent:")


def test_close_far_and_mismatched_results(tmp_path):
    # With 400,000 samples one standard error of the difference is ~0.0037, so 6 of them
    # allow a gap of ~0.022.
    base = write_result(tmp_path / "base", {"estimate": 3.1416, "samples": 400_000})
    close = write_result(tmp_path / "close", {"estimate": 3.1546, "samples": 400_000})
    far = write_result(tmp_path / "far", {"estimate": 3.2, "samples": 400_000})
    fewer = write_result(tmp_path / "fewer", {"estimate": 3.1416, "samples": 1000})

    assert compare(base, close).returncode == 0
    assert compare(close, base).returncode == 0
    result = compare(base, far)
    assert result.returncode == 1 and result.stdout.startswith("different:")
    result = compare(base, fewer)
    assert result.returncode == 1 and "400000 and 1000 samples" in result.stdout


@pytest.mark.parametrize(
    "content",
    [
        None,  # no result.json at all
        "{not json",
        {"estimate": 3.14},
        {"estimate": "3.14", "samples": 400_000},
        {"estimate": 3.14, "samples": 0},
        {"estimate": 3.14, "samples": True},
        {"estimate": 7.5, "samples": 400_000},
        '{"estimate": NaN, "samples": 400000}',
        [3.14, 400_000],
    ],
)
def test_a_missing_or_malformed_result_is_different(tmp_path, content):
    good = write_result(tmp_path / "good", {"estimate": 3.1416, "samples": 400_000})
    bad = tmp_path / "bad"
    if content is None:
        bad.mkdir()
    else:
        write_result(bad, content)

    for a, b in ((good, bad), (bad, good)):
        result = compare(a, b)
        assert result.returncode == 1, result.stdout + result.stderr
        assert result.stdout.startswith("different: ") and str(bad / "result.json") in result.stdout
