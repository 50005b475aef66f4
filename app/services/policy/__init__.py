"""The contributor's resource policy: when this machine may work (manual pause, user idle,
battery, weekly schedule). No Qt: the worker and the UI both use `PolicyEngine`.

    policy = PolicyEngine(settings_store)
    await policy.wait_allowed()          # returns when sharing may go on
    policy.decision()                    # PolicyDecision(allowed, reason, detail)
    policy.pause(3600)                   # "pause for 1 hour"; policy.resume()
"""

from app.services.policy.battery import on_battery
from app.services.policy.engine import (
    REASON_IDLE_UNAVAILABLE,
    REASON_MANUAL_PAUSE,
    REASON_ON_BATTERY,
    REASON_OUTSIDE_SCHEDULE,
    REASON_USER_ACTIVE,
    PolicyDecision,
    PolicyEngine,
)
from app.services.policy.idle import IdleBackend, NullIdleBackend, select_idle_backend
from app.services.policy.schedule import ScheduleError, validate_schedule, within_schedule

__all__ = [
    "REASON_IDLE_UNAVAILABLE",
    "REASON_MANUAL_PAUSE",
    "REASON_ON_BATTERY",
    "REASON_OUTSIDE_SCHEDULE",
    "REASON_USER_ACTIVE",
    "IdleBackend",
    "NullIdleBackend",
    "PolicyDecision",
    "PolicyEngine",
    "ScheduleError",
    "on_battery",
    "select_idle_backend",
    "validate_schedule",
    "within_schedule",
]
