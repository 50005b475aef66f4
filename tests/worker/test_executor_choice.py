"""One rule for which executor runs tasks, whoever starts the worker (CLI, app, demo)."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.services.executors.choice import ExecutorUnavailable, open_executor


@pytest.fixture
def no_docker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A Docker daemon that is not there (the SDK dials DOCKER_HOST)."""
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-docker-here.sock")


async def test_auto_falls_back_to_the_process_executor_and_says_why(no_docker) -> None:
    opened = await open_executor("auto", instance="test")
    assert opened.executor.name == "process"
    assert opened.notice.startswith("Docker not used (cannot reach the Docker daemon")
    assert opened.notice.endswith("running tasks with the process executor")


async def test_docker_asked_for_by_name_is_never_replaced(no_docker) -> None:
    with pytest.raises(ExecutorUnavailable, match=r"^cannot reach the Docker daemon"):
        await open_executor("docker", instance="test")


async def test_the_process_executor_needs_no_daemon(no_docker) -> None:
    opened = await open_executor("process", instance="test")
    assert (opened.executor.name, opened.notice) == ("process", "")


async def test_an_unknown_executor_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown executor 'podman': choose docker or process"):
        await open_executor("podman", instance="test")
