"""Domain errors. Domain code raises these; server/rpc/errors.py maps them to gRPC codes.

Every message is one line a person understands, and raising one means nothing changed.
An error a client may want to say in its own words (another language, with what to do)
carries a `reason`: a stable UPPER_SNAKE_CASE name, with the values the sentence needs as
`details` (e.g. InsufficientBalance-like: reason="INSUFFICIENT_BALANCE", need_ucpt=...).
"""


class DomainError(Exception):
    """Base of every error a client may see."""

    def __init__(self, message: str = "", *, reason: str = "", **details: object) -> None:
        super().__init__(message)
        self.reason = reason
        self.details = {name: str(value) for name, value in details.items()}


class InvalidArgument(DomainError):
    """The request itself is malformed or out of range."""


class NotFound(DomainError):
    """The thing named does not exist, or the caller may not know it exists."""


class AlreadyExists(DomainError):
    """Creating something whose name is taken."""


class Unauthenticated(DomainError):
    """No credential, or a wrong, expired or revoked one."""


class PermissionDenied(DomainError):
    """The caller is known but may not do this."""


class FailedPrecondition(DomainError):
    """The request is well formed but the state does not allow it (short balance, job ended)."""


class ResourceExhausted(DomainError):
    """A quota or a rate limit was hit."""
