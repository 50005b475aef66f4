"""wait_event keeps a cancellation that arrives just as the event is set (asyncio.wait_for
on Python 3.11 drops it: a worker loop then slept on instead of stopping)."""

from __future__ import annotations

import asyncio

import pytest

from app.services.aio import wait_event


async def wait_loop(event: asyncio.Event) -> None:
    while True:  # like the worker's loops: wait, then go round again
        await wait_event(event, 3600)
        event.clear()


async def test_a_cancellation_racing_the_event_is_not_lost():
    for _ in range(50):
        event = asyncio.Event()
        task = asyncio.create_task(wait_loop(event))
        await asyncio.sleep(0)
        event.set()  # a setting changed ...
        task.cancel()  # ... and the worker stops, in the same turn of the loop
        with pytest.raises(asyncio.CancelledError):
            await asyncio.wait_for(task, timeout=2)


async def test_it_says_whether_the_event_came():
    event = asyncio.Event()
    assert await wait_event(event, 0.01) is False
    event.set()
    assert await wait_event(event, 0.01) is True
