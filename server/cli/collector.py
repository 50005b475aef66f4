"""The cyclic garbage collector of a running server: its full passes on a timer.

A server of 10,000 nodes holds about a million long-lived objects (each node's cached
credential and request budget, each open long-poll's call). CPython 3.11 makes a full pass
over all of them whenever a quarter as many again survived the young generations: every
few seconds there, each pass stopping the event loop for 0.7-1.4 s (bench/heartbeats.py), so
every call waited, and gRPC cut new ones short with CANCELLED while the backlog lasted.

So the automatic full passes are off; the young generations are collected as before, and a
full pass runs every FULL_PASS_EVERY_S: one such stop every few minutes instead of every few
seconds. Cyclic garbage that reached the old generation waits that long to be freed (what
is not in a cycle is freed at once, as always). Only `hivemind-server run` does this: a
process that embeds the server (the tests) keeps Python's defaults.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time

log = logging.getLogger("hivemind.server")

FULL_PASS_EVERY_S = 300.0
NEVER = 1 << 30  # young collections before a full one: never, in practice


async def pace_full_collections(every_s: float = FULL_PASS_EVERY_S) -> None:
    """Until cancelled: Python's automatic full collections off, one every `every_s`."""
    young, middle, old = gc.get_threshold()
    gc.set_threshold(young, middle, NEVER)
    try:
        while True:
            await asyncio.sleep(every_s)
            began = time.perf_counter()
            found = gc.collect()
            log.debug(
                "full collection objects=%d took_ms=%.0f",
                found,
                1000 * (time.perf_counter() - began),
            )
    finally:
        gc.set_threshold(young, middle, old)
