"""What CI=true changes in a test: a real dependency that is missing (dockerd, PostgreSQL, Qt,
libtorrent, an X server) fails the test instead of skipping it, because the CI script installs
and starts everything and a skip must never pass CI."""

from __future__ import annotations

import os
from typing import NoReturn

import pytest


def unavailable(what: str, problem: str) -> NoReturn:
    """A test's real setup is missing: skip on a developer's machine, fail under CI=true."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{what} tests cannot run in CI: {problem}")
    pytest.skip(problem, allow_module_level=True)
