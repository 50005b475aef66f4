"""Fixtures of the dashboard tests: the `server` fixture serves its dashboard on a free port
(`server.http_url`), and reads the network's state afresh for every page (no 5 s cache)."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture
def server_settings() -> dict[str, Any]:
    return {"http_listen": "127.0.0.1:0", "web_state_cache_s": 0}
