"""The `network` fixture: people, workers and jobs of one test, cleaned up after it."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.worker.helpers import Network


@pytest.fixture
async def network(tmp_path: Path):
    net = Network(tmp_path)
    yield net
    await net.close()
