"""Waiting in an async test for something to become true, without sleeping a fixed time."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import pytest


async def wait_until(
    predicate: Callable[[], Any | Awaitable[Any]], timeout: float = 30.0, what: str = "condition"
) -> None:
    """Polls `predicate()` (a plain or an async function) until it is true; fails the test
    naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        await asyncio.sleep(0.1)
