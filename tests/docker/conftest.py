"""Fixtures for tests against the real Docker daemon and the real runtime image.

Locally these tests skip when dockerd or the image is missing; under CI=true they fail
instead, so a CI machine without Docker can never pass them by skipping (`runtime_image` and
`docker_client` are in tests/conftest.py: tests/runtimes use them too).
"""

from __future__ import annotations

import textwrap
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from app.services.executors.base import TaskSpec
from app.services.executors.docker.config import LABEL_INSTANCE
from app.services.executors.docker.executor import DockerExecutor
from tests.kit.docker import RUNTIME


@pytest.fixture
def instance() -> str:
    """A label value of this test's own, so parallel runs never remove each other's work."""
    return f"test-{uuid.uuid4().hex[:10]}"


@pytest.fixture
async def executor(runtime_image: str, instance: str) -> AsyncIterator[DockerExecutor]:
    executor = DockerExecutor(instance=instance, pids_limit=64)
    yield executor
    await executor.cleanup_leftovers()


@pytest.fixture
def containers_of(docker_client: Any) -> Callable[[str], list[Any]]:
    """Every container (any state) carrying `label` (name=value)."""

    def find(label: str) -> list[Any]:
        return docker_client.containers.list(all=True, filters={"label": label})

    return find


@pytest.fixture
def instance_containers(containers_of, instance: str) -> Callable[[], list[Any]]:
    return lambda: containers_of(f"{LABEL_INSTANCE}={instance}")


@pytest.fixture
def make_spec(tmp_path: Path) -> Callable[..., TaskSpec]:
    """A TaskSpec whose package holds `main.py` with `code`; command `python3 main.py`."""
    counter = iter(range(1_000_000))

    def make(code: str, *, input_text: str | None = None, **overrides: Any) -> TaskSpec:
        n = next(counter)
        work = tmp_path / f"attempt-{n}"
        package = work / "package"
        package.mkdir(parents=True)
        (package / "main.py").write_text(textwrap.dedent(code))
        input_path = None
        if input_text is not None:
            input_path = work / "input" / "words.txt"
            input_path.parent.mkdir()
            input_path.write_text(input_text)
        fields: dict[str, Any] = {
            "attempt_id": f"att-{uuid.uuid4().hex[:12]}",
            "job_id": "job-1",
            "task_index": n,
            "runtime": RUNTIME,
            "command": ["python3", "main.py"],
            "package_dir": package,
            "output_dir": work / "output",
            "work_dir": work,
            "input_path": input_path,
            "memory_mb": 64,
            "disk_mb": 64,
            "timeout_s": 20,
        }
        fields.update(overrides)
        return TaskSpec(**fields)

    return make
