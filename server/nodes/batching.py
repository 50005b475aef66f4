"""Many small calls of one kind sharing one round trip (group commit): what thousands of
nodes send every few seconds (heartbeats, credential look-ups) costs a database transaction
(or a Redis pipeline) per batch, not per call.

A call waits for the batch that does its part, so it sees what it would have seen alone (a
beat answered is a beat stored). While one batch runs, the calls that arrive gather for the
next: alone, a call runs at once; under load, one batch serves hundreds. If a batch fails,
each of its calls is tried again alone, so one bad call fails alone. On the event loop only.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from sqlalchemy import Connection

from server.store.db import Database, current_account

Item = TypeVar("Item")
Result = TypeVar("Result")

MAX_BATCH = 1000


@dataclass
class _Call(Generic[Item, Result]):
    item: Item
    answer: asyncio.Future[Result]


class Batched(Generic[Item, Result]):
    """`await batched(item)` runs `run_batch(items)` (one result per item, in order) over
    `item` and whatever else arrived meanwhile."""

    def __init__(
        self,
        run_batch: Callable[[list[Item]], Awaitable[Sequence[Result]]],
        max_batch: int = MAX_BATCH,
    ) -> None:
        self.run_batch = run_batch
        self.max_batch = max_batch
        self._waiting: list[_Call[Item, Result]] = []
        self._flushing: asyncio.Task[None] | None = None

    @classmethod
    def transactions(
        cls,
        db: Database,
        run_batch: Callable[[Connection, Sequence[Item]], Sequence[Result]],
        max_batch: int = MAX_BATCH,
    ) -> Batched[Item, Result]:
        """Batches that are each one transaction: `run_batch(conn, items)` on `db`."""

        async def run(items: list[Item]) -> Sequence[Result]:
            return await db.run(run_batch, items)

        return cls(run, max_batch)

    async def __call__(self, item: Item) -> Result:
        call: _Call[Item, Result] = _Call(item, asyncio.get_running_loop().create_future())
        self._waiting.append(call)
        if self._flushing is None:
            self._flushing = asyncio.create_task(self._flush())
        return await call.answer

    async def _flush(self) -> None:
        current_account.set("")  # the server's own work, not the first caller's
        batch: list[_Call[Item, Result]] = []
        try:
            while self._waiting:
                batch = self._waiting[: self.max_batch]
                del self._waiting[: self.max_batch]
                await self._run(batch)
        finally:
            self._flushing = None
            for call in batch + self._waiting:  # stopped half-way (the server stops)
                call.answer.cancel()

    async def _run(self, batch: list[_Call[Item, Result]]) -> None:
        try:
            results = await self.run_batch([call.item for call in batch])
        except Exception as error:
            if len(batch) > 1:
                for call in batch:  # each alone: only a bad one fails
                    await self._run([call])
            elif not batch[0].answer.done():
                batch[0].answer.set_exception(error)
            return
        for call, result in zip(batch, results, strict=True):
            if not call.answer.done():  # else its caller stopped waiting
                call.answer.set_result(result)
