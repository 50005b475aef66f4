"""The reward for an accepted attempt, in integer micro-CPT (docs/REWARDS.md explains it).

reward = (core rate x core-hours + GPU rate x GPU-hours)
         x (1 + performance bonus) x (1 + stability bonus) x priority

GPU-hours are counted as core-hours are: the measured wall time (at most the timeout) times
the GPUs the job asked for.

Everything is integer arithmetic on permille factors with one floor at the end, so the same
inputs give the same amount on every machine and nothing is lost to float rounding.

The bonuses:
- performance: up to +50% from the node's benchmark score against the reference score (a
  node twice as fast as the reference earns all of it), and only once the node's results
  have validated (its latest checked result agreed with the others);
- stability: +30% for a node that kept every lease and stayed online for the whole
  stability window (settings.stability_window_s) before the payout.
The escrow of a job always covers the worst case *with both bonuses at their maximum*, so a
payout is never short.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

MS_PER_HOUR = 3_600_000
PERMILLE = 1000
MAX_PERFORMANCE_BONUS_PERMILLE = 500
STABILITY_BONUS_PERMILLE = 300
REFERENCE_BENCHMARK_SCORE = 1000.0  # what the reference machine scores (app/services/benchmark)


def performance_bonus_permille(
    benchmark_score: float, reference_score: float, validated: bool
) -> int:
    """0..500: linear from the reference score (0) to twice the reference (+50%), capped;
    0 for a node whose results have not validated (a score is only the node's claim)."""
    if not validated or not math.isfinite(benchmark_score) or reference_score <= 0:
        return 0
    if benchmark_score <= reference_score:
        return 0
    extra = (benchmark_score - reference_score) / reference_score
    return min(MAX_PERFORMANCE_BONUS_PERMILLE, int(extra * MAX_PERFORMANCE_BONUS_PERMILLE))


def stability_bonus_permille(stable_since: float, now: float, window_s: float) -> int:
    """+30% when the node has been online and kept its leases since `stable_since` (the
    later of its registration, its last time offline and its last expired lease) for at
    least the window."""
    return STABILITY_BONUS_PERMILLE if now - stable_since >= window_s else 0


@dataclass(frozen=True)
class Reward:
    core_ms: int
    base_ucpt: int  # what the core time earns at the job's priority, before bonuses
    bonus_ucpt: int  # what the performance and stability bonuses add
    performance_bonus_permille: int
    stability_bonus_permille: int
    priority_permille: int
    gpu_ms: int = 0

    @property
    def amount_ucpt(self) -> int:
        return self.base_ucpt + self.bonus_ucpt


def measured_core_ms(wall_seconds: float, timeout_s: int, cores: int) -> int:
    """Core-milliseconds to pay for: the measured wall time, never more than the job's
    timeout (what the submitter agreed to pay for), times the cores the job asked for."""
    if not wall_seconds or wall_seconds != wall_seconds or wall_seconds < 0:  # 0, NaN, < 0
        return 0
    wall_ms = min(round(wall_seconds * 1000), timeout_s * 1000)
    return wall_ms * cores


def reward_for(
    *,
    base_ucpt_per_core_hour: int,
    core_ms: int,
    priority_permille: int,
    performance_bonus_permille: int = 0,
    stability_bonus_permille: int = 0,
    base_ucpt_per_gpu_hour: int = 0,
    gpu_ms: int = 0,
) -> Reward:
    """The reward for `core_ms` of core time and `gpu_ms` of GPU time. Bonuses are permille
    additions (300 = +30%)."""
    if min(base_ucpt_per_core_hour, core_ms, priority_permille) < 0:
        raise ValueError("reward inputs must not be negative")
    if min(base_ucpt_per_gpu_hour, gpu_ms) < 0:
        raise ValueError("reward inputs must not be negative")
    if min(performance_bonus_permille, stability_bonus_permille) < 0:
        raise ValueError("bonuses must not be negative")
    work = base_ucpt_per_core_hour * core_ms + base_ucpt_per_gpu_hour * gpu_ms
    scaled = work * priority_permille
    base = scaled // (MS_PER_HOUR * PERMILLE)
    bonus_factor = (PERMILLE + performance_bonus_permille) * (PERMILLE + stability_bonus_permille)
    total = scaled * bonus_factor // (MS_PER_HOUR * PERMILLE * PERMILLE * PERMILLE)
    return Reward(
        core_ms=core_ms,
        base_ucpt=base,
        bonus_ucpt=total - base,
        performance_bonus_permille=performance_bonus_permille,
        stability_bonus_permille=stability_bonus_permille,
        priority_permille=priority_permille,
        gpu_ms=gpu_ms,
    )


def worst_case_cost_ucpt(
    *,
    tasks: int,
    replicas: int,
    cores: int,
    timeout_s: int,
    base_ucpt_per_core_hour: int,
    priority_permille: int,
    performance_bonus_permille: int = MAX_PERFORMANCE_BONUS_PERMILLE,
    stability_bonus_permille: int = STABILITY_BONUS_PERMILLE,
    gpus: int = 0,
    base_ucpt_per_gpu_hour: int = 0,
) -> int:
    """What a job can cost at most: `replicas` paid results of every task, each running its
    full timeout on all its cores and GPUs with both bonuses at their maximum, rounded up. No
    more than `replicas` results of a task are ever paid, and each payout is at most this
    share, so the escrow always covers every payout."""
    bonus = (PERMILLE + performance_bonus_permille) * (PERMILLE + stability_bonus_permille)
    rate = cores * base_ucpt_per_core_hour + gpus * base_ucpt_per_gpu_hour
    numerator = tasks * replicas * timeout_s * rate * priority_permille * bonus
    denominator = 3600 * PERMILLE * PERMILLE * PERMILLE
    return -(-numerator // denominator)
