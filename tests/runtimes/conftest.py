"""Fixtures for the runtime tests. The Docker ones use `runtime_image` and `docker_client`
(tests/conftest.py): they skip locally without dockerd and fail under CI=true."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.runtimes.runtimekit import SavedImage, build_tiny_image


@pytest.fixture
def tiny_image(docker_client: Any, tmp_path: Path) -> Iterator[SavedImage]:
    """A real ~2 MB image saved to a file and absent from Docker; removed after the test."""
    saved = build_tiny_image(docker_client, tmp_path)
    yield saved
    import docker.errors

    with contextlib.suppress(docker.errors.ImageNotFound):
        docker_client.images.remove(saved.image_id, force=True)
