"""Small asyncio helpers the worker's loops share."""

from __future__ import annotations

import asyncio


async def wait_event(event: asyncio.Event, timeout: float) -> bool:
    """Waits for `event` at most `timeout` seconds; True when it is set.

    Not `asyncio.wait_for(event.wait(), ...)`: on Python 3.11 that drops a cancellation
    arriving just as the event is set (CPython gh-86296), and a loop cancelled while a setting
    changed then sleeps on instead of stopping (seen as a worker that would not stop)."""
    try:
        async with asyncio.timeout(max(0.0, timeout)):
            await event.wait()
    except TimeoutError:
        return event.is_set()
    return True
