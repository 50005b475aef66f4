"""What the worker agent tells its listeners (the tray, the CLI): tasks started and finished,
payouts, pauses, errors. Listeners are plain callables run on the agent's loop, or an asyncio
queue for consumers that prefer `await queue.get()`; the UI bridge turns them into Qt signals.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

log = logging.getLogger(__name__)

# Event kinds. The task_* kinds also describe comparisons (judging whether two
# replicas' results agree), with `comparison=True`; `task_text` names either for a person.
REGISTERED = "registered"  # message = node id; new_node when this machine just became one
TASK_STARTED = "task_started"
TASK_LOG = "task_log"  # message = a piece of the task's stdout/stderr
TASK_FINISHED = "task_finished"  # the result was accepted by the server
TASK_FAILED = "task_failed"  # message = the error
TASK_RETURNED = "task_returned"  # handed back unfinished (the worker stopped); message = why
PAYOUT = "payout"  # payout_ucpt = what the node's owner earned for the attempt
PAUSED = "paused"  # message = the policy's reason
RESUMED = "resumed"
RECOVERED = "recovered"  # the server answers again after failed heartbeats
ERROR = "error"  # message = one line; the agent keeps going
IDLE = "idle"  # nothing to do right now
HELD_BACK = "held_back"  # message = why the server gives this node fewer tasks (or none)
STOPPED = "stopped"


@dataclass(frozen=True)
class WorkerEvent:
    kind: str
    message: str = ""
    attempt_id: str = ""
    job_id: str = ""
    task_index: int = -1
    payout_ucpt: int = 0
    comparison: bool = False  # the attempt compares two results of the task instead of running it
    # For an error from the server: the gRPC status name and the server's reason, so a UI
    # can say what happened in its own words.
    status: str = ""
    reason: str = ""
    new_node: bool = False  # REGISTERED: a fresh registration, not the stored node
    at: float = field(default_factory=time.time)

    @property
    def task_text(self) -> str:
        """What the attempt is, for a person: "job J task N", or "comparing results of job J
        task N" when it judges two replicas' results."""
        where = f"job {self.job_id} task {self.task_index}"
        return f"comparing results of {where}" if self.comparison else where


Listener = Callable[[WorkerEvent], None]


class WorkerEvents:
    """Fan-out of worker events. `emit` must be called on the agent's loop."""

    def __init__(self, history: int = 200) -> None:
        self._listeners: list[Listener] = []
        self._queues: list[asyncio.Queue[WorkerEvent]] = []
        self.recent: list[WorkerEvent] = []
        self._history = history

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        self._listeners.append(listener)

        def unsubscribe() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return unsubscribe

    def queue(self, maxsize: int = 1000) -> asyncio.Queue[WorkerEvent]:
        """A queue that receives every event from now on (the oldest dropped when full)."""
        queue: asyncio.Queue[WorkerEvent] = asyncio.Queue(maxsize)
        self._queues.append(queue)
        return queue

    def emit(self, kind: str, **fields: object) -> WorkerEvent:
        event = WorkerEvent(kind, **fields)  # type: ignore[arg-type]
        if kind != TASK_LOG:
            self.recent.append(event)
            del self.recent[: -self._history]
        for listener in list(self._listeners):
            try:
                listener(event)
            except Exception:  # a listener's bug must not stop the worker
                log.exception("worker event listener failed kind=%s", kind)
        for queue in self._queues:
            if queue.full():
                queue.get_nowait()
            queue.put_nowait(event)
        return event
