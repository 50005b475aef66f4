"""The reward for an accepted attempt, in integer micro-CPT.

reward = base rate x core-hours x (1 + performance bonus) x (1 + stability bonus) x priority

Everything is integer arithmetic on permille factors with one floor at the end, so the same
inputs give the same amount on every machine and nothing is lost to float rounding.
"""

from __future__ import annotations

from dataclasses import dataclass

MS_PER_HOUR = 3_600_000
PERMILLE = 1000


@dataclass(frozen=True)
class Reward:
    core_ms: int
    base_ucpt: int  # what the core time earns at the job's priority, before bonuses
    bonus_ucpt: int  # what the performance and stability bonuses add
    performance_bonus_permille: int
    stability_bonus_permille: int
    priority_permille: int

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
) -> Reward:
    """The reward for `core_ms` of work. Bonuses are permille additions (300 = +30%)."""
    if min(base_ucpt_per_core_hour, core_ms, priority_permille) < 0:
        raise ValueError("reward inputs must not be negative")
    if min(performance_bonus_permille, stability_bonus_permille) < 0:
        raise ValueError("bonuses must not be negative")
    scaled = base_ucpt_per_core_hour * core_ms * priority_permille
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
    )


def worst_case_cost_ucpt(
    *,
    tasks: int,
    replicas: int,
    cores: int,
    timeout_s: int,
    base_ucpt_per_core_hour: int,
    priority_permille: int,
) -> int:
    """What a job can cost at most: every replica of every task running its full timeout on
    all its cores, rounded up so the escrow always covers the base reward. Bonuses are paid
    from the same escrow and capped by what is left in it."""
    numerator = tasks * replicas * cores * timeout_s * base_ucpt_per_core_hour * priority_permille
    denominator = 3600 * PERMILLE
    return -(-numerator // denominator)
