"""Fixtures for the runtime tests. The Docker ones reuse tests/docker's `runtime_image` and
`docker_client`: they skip locally without dockerd and fail under CI=true."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest

from tests.docker.conftest import docker_client, runtime_image  # noqa: F401 (fixtures)
from tests.runtimes.runtimekit import SavedImage, build_tiny_image
from tests.worker.conftest import network  # noqa: F401 (fixture)


@pytest.fixture
def tiny_image(docker_client, tmp_path: Path) -> SavedImage:  # noqa: F811
    """A real ~2 MB image saved to a file and absent from Docker; removed after the test."""
    saved = build_tiny_image(docker_client, tmp_path)
    yield saved
    import docker.errors

    with contextlib.suppress(docker.errors.ImageNotFound):
        docker_client.images.remove(saved.image_id, force=True)
