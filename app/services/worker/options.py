"""How one run of the worker behaves, beside the contributor's settings: what the command
line or the app asks of this run only (a node name, limits for this run, stop conditions)
and the agent's pace."""

from __future__ import annotations

from dataclasses import dataclass

from app.services.worker.secret import CHECK_INTERVAL_S


@dataclass
class WorkerOptions:
    name: str = ""  # the node's name; empty = this machine's hostname
    cores: int | None = None  # overrides the contributor setting for this run (0 = all)
    memory_mb: int | None = None  # likewise (0 = 75% of memory)
    # GPUs to lend this run (overrides the share switch and its count; 0 = none); None = the
    # contributor's settings.
    gpus: int | None = None
    max_tasks: int = 0  # at most this many tasks at a time; 0 = as many as fit
    once: bool = False  # run one batch of leases, then stop
    exit_when_idle_s: float = 0.0  # stop after this long with nothing to do; 0 = never
    lease_poll_s: float = 1.0  # how often to ask for work when there is none
    # An idle worker's LeaseTasks waits this long on the server for work to arrive (long-poll;
    # the server caps it); 0 = ask and return at once, every lease_poll_s.
    lease_wait_s: float = 20.0
    drain_timeout_s: float = 30.0  # a graceful stop waits this long for running tasks
    benchmark_s: float = 2.0  # the CPU benchmark's length when no score is cached; 0 = skip
    secret_check_s: float = CHECK_INTERVAL_S  # how often the node secret's age is looked at
