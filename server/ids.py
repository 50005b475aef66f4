"""Ids: a short prefix that says what the thing is, then 20 random hex digits."""

import secrets


def new_id(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(10)}"
