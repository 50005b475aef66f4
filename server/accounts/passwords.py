"""Password hashing with argon2id. Every function here is slow and blocking by design:
call it through `asyncio.to_thread`, never on the event loop or the database thread."""

from __future__ import annotations

from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


@lru_cache(maxsize=1)
def _decoy_hash() -> str:
    return _hasher.hash("hivemind decoy password, never matches a login")


def spend_verify_time(password: str) -> None:
    """Costs what a real verification costs, so an unknown username is not told apart from
    a wrong password by response time."""
    verify_password(_decoy_hash(), password)
