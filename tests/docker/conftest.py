"""Fixtures for tests against the real Docker daemon and the real runtime image.

Locally these tests skip when dockerd or the image is missing; under CI=true they fail
instead, so a CI machine without Docker can never pass them by skipping.
"""

from __future__ import annotations

import textwrap
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from app.services.executors.base import TaskSpec
from app.services.executors.docker.config import DEFAULT_RUNTIME_IMAGES, LABEL_INSTANCE
from app.services.executors.docker.executor import DockerExecutor
from tests.conftest import unavailable

RUNTIME = "python-3.11"


def _docker_problem(image: str) -> str | None:
    try:
        import docker

        client = docker.from_env()
        client.ping()
    except Exception as exc:
        return f"no Docker daemon reachable ({' '.join(str(exc).split())[:200]})"
    try:
        client.images.get(image)
    except Exception:
        return f"runtime image {image} missing (make runtime-image)"
    finally:
        client.close()
    return None


@pytest.fixture(scope="session")
def runtime_image() -> str:
    """The runtime image's tag; skips (or fails under CI=true) without dockerd or image."""
    image = DEFAULT_RUNTIME_IMAGES[RUNTIME]
    problem = _docker_problem(image)
    if problem:
        unavailable("Docker", problem)
    return image


@pytest.fixture(scope="session")
def docker_client(runtime_image: str) -> Any:
    import docker

    client = docker.from_env()
    yield client
    client.close()


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
