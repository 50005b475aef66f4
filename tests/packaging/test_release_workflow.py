"""The release workflow: valid against GitHub's published workflow schema, and it builds,
installs and smoke-tests the desktop app on each of the three OSes, with every script it
names present in the repository."""

from __future__ import annotations

import re
import subprocess
import sys
from typing import Any

import pytest
from ruamel.yaml import YAML

from tests.kit.paths import REPO_ROOT

WORKFLOW = REPO_ROOT / ".github" / "workflows" / "release.yml"
RUNNERS = {"ubuntu-22.04": "Linux", "windows-latest": "Windows", "macos-14": "macOS"}


@pytest.fixture(scope="module")
def workflow() -> dict[str, Any]:
    # YAML 1.2 (ruamel): `on` stays the string "on" (PyYAML would read True).
    return YAML(typ="safe").load(WORKFLOW.read_text())


def applies(step: dict[str, Any], runner_os: str) -> bool:
    """Whether a step runs on `runner_os`, from its `if: runner.os == '...'` condition."""
    condition = str(step.get("if", ""))
    named = re.findall(r"runner\.os\s*==\s*'(\w+)'", condition)
    return not named or runner_os in named


def step_text(step: dict[str, Any]) -> str:
    return f"{step.get('uses', '')}\n{step.get('run', '')}"


def test_workflow_matches_githubs_schema() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.github-workflows",
         str(WORKFLOW)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr


def test_triggered_by_version_tags_and_by_hand(workflow: dict[str, Any]) -> None:
    triggers = workflow["on"]
    assert "v*" in triggers["push"]["tags"]
    assert "workflow_dispatch" in triggers


def test_desktop_job_is_a_matrix_of_the_three_oses(workflow: dict[str, Any]) -> None:
    desktop = workflow["jobs"]["desktop"]
    assert desktop["runs-on"] == "${{ matrix.os }}"
    assert sorted(desktop["strategy"]["matrix"]["os"]) == sorted(RUNNERS)
    # One OS failing must not hide whether the other two build.
    assert desktop["strategy"]["fail-fast"] is False


@pytest.mark.parametrize("runner_os", sorted(RUNNERS.values()))
def test_each_os_tests_builds_smoke_tests_and_uploads(
    workflow: dict[str, Any], runner_os: str
) -> None:
    steps = [s for s in workflow["jobs"]["desktop"]["steps"] if applies(s, runner_os)]
    texts = [step_text(s) for s in steps]

    def index_of(pattern: str) -> int:
        for i, text in enumerate(texts):
            if re.search(pattern, text):
                return i
        raise AssertionError(f"{runner_os}: no step matches {pattern!r}")

    order = [
        index_of(r"actions/checkout@"),
        index_of(r"actions/setup-python@"),
        index_of(r"pytest"),
        index_of(r"packaging/build\.py"),
    ]
    installer = {
        "Linux": r"packaging/build\.py",  # the .tar.gz and .deb come out of build.py
        "Windows": r"ISCC\.exe.*hivemind\.iss|hivemind\.iss",
        "macOS": r"packaging/macos/build-dmg\.sh",
    }[runner_os]
    smoke = {
        "Linux": r"packaging/linux/smoke-test\.sh",
        "Windows": r"packaging/windows/smoke-test\.ps1",
        "macOS": r"packaging/macos/smoke-test\.sh",
    }[runner_os]
    order += [index_of(installer), index_of(smoke), index_of(r"actions/upload-artifact@")]
    assert order == sorted(order), f"{runner_os}: steps out of order: {order}"
    python = next(s for s in steps if "setup-python" in str(s.get("uses")))
    assert str(python["with"]["python-version"]) == "3.11"


def test_every_script_the_workflow_runs_exists(workflow: dict[str, Any]) -> None:
    # Files (with an extension); a folder the workflow creates, like packaging/server/tls, not.
    named = set(re.findall(r"packaging[/\\][\w/\\-]+\.\w+", WORKFLOW.read_text()))
    assert named, "the workflow names no packaging scripts"
    missing = [p for p in sorted(named) if not (REPO_ROOT / p.replace("\\", "/")).exists()]
    assert not missing


def test_release_is_published_only_from_tags(workflow: dict[str, Any]) -> None:
    release = workflow["jobs"]["release"]
    assert "refs/tags/v" in release["if"]
    assert set(release["needs"]) == {"desktop", "server"}
    assert release["permissions"]["contents"] == "write"
    # Everything else only reads the repository.
    assert workflow["permissions"]["contents"] == "read"


def test_server_job_proves_the_server_installs_without_qt(workflow: dict[str, Any]) -> None:
    text = "\n".join(step_text(s) for s in workflow["jobs"]["server"]["steps"])
    assert "import PySide6" in text
    assert "packaging/server/docker-compose.yml" in text  # builds packaging/server/Dockerfile
    assert "hivemind-server.service" in text
