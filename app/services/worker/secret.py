"""Keeping the node secret fresh: the running worker replaces a secret older than the
contributor's `node_secret_max_age_days` (0 = never), so a secret copied off this machine stops
working by itself; and `hivemind worker rotate-secret` replaces it on demand.

Rotation never gets in the way of work: it runs beside the lease and heartbeat loops, a failed
rotation is logged and retried later with backoff, and the old secret keeps working until the
server has replaced it. The one dangerous moment is a lost reply (the server committed, the
call failed): the server then refuses the old secret and nobody knows the new one. That
refusal is handed to the worker's refused-node path (NodeRegistration.recover), which rotates
the secret with the owner's login when they are logged in, or registers the machine again. A
worker stopped in that state recovers the node the same way when it starts again
(NodeRegistration.ensure).

Runs on the worker's loop; the credential store is read in a thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import grpc

from app.services.aio import wait_event
from app.services.client.credentials import CredentialError, NodeCredential
from app.services.client.session import ClientError, ClientSession
from app.services.settings import ClientSettings, SettingsStore
from app.services.worker.node import NodeRegistration

log = logging.getLogger("app.services.worker.agent")

DAY_S = 86_400
CHECK_INTERVAL_S = 3600.0  # how often the secret's age is looked at
RETRY_FIRST_S = 60.0  # a failed rotation is tried again after this, doubling each time
RETRY_MAX_S = 6 * 3600.0


def max_secret_age_s(settings: ClientSettings) -> float | None:
    """The contributor's limit on the node secret's age in seconds; None = never rotate (0, or
    a value a hand-edited settings file made unusable)."""
    days = settings.contributor.node_secret_max_age_days
    if isinstance(days, bool) or not isinstance(days, int | float) or not math.isfinite(days):
        return None
    return days * DAY_S if days > 0 else None


class SecretRotation:
    """Rotates the node secret of `registration` when it is too old. `await run()` until
    cancelled; a changed setting applies at once. `on_refused` is called when the rotation
    finds the secret in use already refused by the server."""

    def __init__(
        self,
        registration: NodeRegistration,
        settings_store: SettingsStore,
        *,
        on_refused: Callable[[ClientError], Awaitable[None]],
        check_interval_s: float = CHECK_INTERVAL_S,
    ) -> None:
        self.registration = registration
        self.settings_store = settings_store
        self.on_refused = on_refused
        self.check_interval_s = max(0.01, check_interval_s)
        self.rotations = 0  # done by this worker run
        self._wake = asyncio.Event()

    async def rotate_if_due(self) -> bool:
        """One look at the secret's age; rotates it when it is too old. True when rotated.
        Raises what the rotation raised (ClientError, CredentialError)."""
        max_age = max_secret_age_s(self.settings_store.settings)
        if max_age is None or not self.registration.node_id:
            return False
        age = await self.registration.secret_age_s()
        if age is None or age < max_age:
            return False
        node_id = self.registration.node_id
        log.info("node=%s secret is %.1f days old: rotating it", node_id, age / DAY_S)
        await self.registration.rotate_secret()
        self.rotations += 1
        log.info("node=%s secret rotated; the old one no longer works", node_id)
        return True

    async def run(self) -> None:
        """Checks at start and every `check_interval_s`; never raises but CancelledError."""
        loop = asyncio.get_running_loop()
        # Settings may change from another thread (the UI's): wake this loop safely.
        unsubscribe = self.settings_store.subscribe(
            lambda _settings: loop.call_soon_threadsafe(self._wake.set)
        )
        failures = 0
        try:
            while True:
                delay = self.check_interval_s
                # Cleared before the look, not after: a setting changed during it wakes the
                # loop again instead of being lost until the next hourly check.
                self._wake.clear()
                try:
                    await self.rotate_if_due()
                    failures = 0
                except ClientError as exc:
                    failures += 1
                    delay = self._retry_in(failures)
                    if exc.code == grpc.StatusCode.UNAUTHENTICATED:
                        # Refused before or during the call (the call's own retry after a
                        # lost reply uses the old secret): the worker recovers the node.
                        log.warning(
                            "node=%s secret refused while rotating it (%s); recovering",
                            self.registration.node_id,
                            exc.message,
                        )
                        await self.on_refused(exc)
                    else:
                        self._warn(exc.message, delay)
                except CredentialError as exc:
                    failures += 1
                    delay = self._retry_in(failures)
                    self._warn(str(exc), delay)
                except Exception as exc:  # our bug: the worker must keep working regardless
                    failures += 1
                    delay = self._retry_in(failures)
                    log.exception("node=%s secret rotation error", self.registration.node_id)
                    self._warn(f"{type(exc).__name__}: {exc}", delay)
                await wait_event(self._wake, delay)
        finally:
            with contextlib.suppress(ValueError):
                unsubscribe()

    def _retry_in(self, failures: int) -> float:
        first = min(RETRY_FIRST_S, self.check_interval_s)
        return min(RETRY_MAX_S, first * 2 ** min(failures - 1, 20))

    def _warn(self, reason: str, delay: float) -> None:
        log.warning(
            "node=%s cannot rotate its secret (%s); trying again in %s",
            self.registration.node_id,
            reason,
            f"{delay:.0f}s" if delay >= 10 else f"{delay:.1f}s",
        )


@dataclass(frozen=True)
class RotatedSecret:
    """What `rotate_stored_secret` did. The new secret is in the credential store only."""

    node_id: str
    by_owner: bool = False  # the node credential was refused; the owner's login rotated it
    refused: str = ""  # why the node credential was refused, when it was


async def rotate_stored_secret(session: ClientSession, node: NodeCredential) -> RotatedSecret:
    """Rotates this machine's node secret (`node` is the stored credential) and stores the new
    one. When the server refuses the stored secret (stolen and rotated by someone, or the
    reply of an earlier rotation was lost), the user's login rotates it instead. Raises
    ClientError with a message saying what to do when neither works."""
    try:
        await session.rotate_node_secret(node.node_id, node.secret)
        return RotatedSecret(node.node_id)
    except ClientError as exc:
        if exc.code != grpc.StatusCode.UNAUTHENTICATED:
            raise
        refused = exc.message
    try:
        await session.rotate_node_secret_as_owner(node.node_id)
    except ClientError as exc:
        if exc.code == grpc.StatusCode.UNAUTHENTICATED:
            raise ClientError(
                exc.code,
                f"the server refused this machine's node secret ({refused}), and replacing it "
                f"needs your login: {exc.message}",
                exc.server,
            ) from None
        if exc.code == grpc.StatusCode.NOT_FOUND:
            raise ClientError(
                exc.code,
                f"the server refused this machine's node secret ({refused}) and has {exc.message}"
                ": `hivemind worker run` registers this machine again",
                exc.server,
            ) from None
        raise
    return RotatedSecret(node.node_id, by_owner=True, refused=refused)
