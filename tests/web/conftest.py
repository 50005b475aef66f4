"""Fixtures of the dashboard tests: the `server` fixture serves its dashboard on a free port
(`server.http_url`)."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture
def server_settings() -> dict[str, Any]:
    return {"http_listen": "127.0.0.1:0"}
