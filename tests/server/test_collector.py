"""`hivemind-server run`'s pacing of full garbage collections (server/cli/collector.py)."""

from __future__ import annotations

import asyncio
import gc
import weakref

from server.cli.collector import NEVER, pace_full_collections


class _Cycle:
    def __init__(self) -> None:
        self.me = self


async def test_full_passes_run_on_the_timer_only_and_defaults_come_back():
    defaults = gc.get_threshold()
    pacing = asyncio.create_task(pace_full_collections(every_s=0.05))
    await asyncio.sleep(0)
    try:
        assert gc.get_threshold() == (defaults[0], defaults[1], NEVER)
        garbage = _Cycle()
        gone = weakref.ref(garbage)
        gc.freeze()  # out of the young generations' reach: only a full pass frees it
        del garbage
        gc.unfreeze()  # back in the oldest generation
        for _ in range(100):
            if gone() is None:
                break
            await asyncio.sleep(0.01)
        assert gone() is None
    finally:
        pacing.cancel()
        await asyncio.gather(pacing, return_exceptions=True)
    assert gc.get_threshold() == defaults
