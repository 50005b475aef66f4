"""The one place where domain errors become gRPC status codes.

Decorate every servicer method with `@maps_domain_errors`. It works on coroutine methods
(unary-unary and stream-unary) and on async-generator methods (server streaming and
bidirectional streaming), keeping the method's kind so grpc.aio still recognises it.
"""

from __future__ import annotations

import functools
import inspect
import json
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any, TypeVar

import grpc

from server import errors

log = logging.getLogger("hivemind.rpc")

INTERNAL_MESSAGE = "internal error (logged on the server)"
# A domain error's reason and details travel beside the message, as trailing metadata shaped
# like google.rpc.ErrorInfo: {"reason": "...", "metadata": {"name": "value", ...}} in JSON.
ERROR_INFO_KEY = "hivemind-error-info"
# Messages may quote the caller's input; a status travels in trailers, which clients cap
# (8 KiB by default), so a long quote would turn a clear error into a transport error.
MAX_MESSAGE_CHARS = 1000


def status_message(error: BaseException) -> str:
    """One line of at most MAX_MESSAGE_CHARS for the status details."""
    text = str(error)
    if "\n" in text or "\r" in text:
        text = " ".join(text.split())
    return text if len(text) <= MAX_MESSAGE_CHARS else text[: MAX_MESSAGE_CHARS - 1] + "…"


STATUS_BY_ERROR: dict[type[errors.DomainError], grpc.StatusCode] = {
    errors.InvalidArgument: grpc.StatusCode.INVALID_ARGUMENT,
    errors.NotFound: grpc.StatusCode.NOT_FOUND,
    errors.AlreadyExists: grpc.StatusCode.ALREADY_EXISTS,
    errors.Unauthenticated: grpc.StatusCode.UNAUTHENTICATED,
    errors.PermissionDenied: grpc.StatusCode.PERMISSION_DENIED,
    errors.FailedPrecondition: grpc.StatusCode.FAILED_PRECONDITION,
    errors.ResourceExhausted: grpc.StatusCode.RESOURCE_EXHAUSTED,
}

F = TypeVar("F", bound=Callable[..., Any])


def status_for(error: errors.DomainError) -> grpc.StatusCode:
    """The status code of a domain error; subclasses map like their nearest known base."""
    for cls in type(error).__mro__:
        code = STATUS_BY_ERROR.get(cls)  # type: ignore[call-overload]
        if code is not None:
            return code
    return grpc.StatusCode.UNKNOWN


def error_info(error: errors.DomainError) -> tuple[tuple[str, str], ...]:
    """The trailing metadata naming the error's reason, or none when it has no reason."""
    reason = getattr(error, "reason", "")
    if not reason:
        return ()
    info = {"reason": reason, "metadata": dict(getattr(error, "details", {}))}
    return ((ERROR_INFO_KEY, json.dumps(info, ensure_ascii=True)[:MAX_MESSAGE_CHARS]),)


async def _abort_for(error: BaseException, context: Any, method: str) -> None:
    """Ends the call with the status `error` deserves. Always raises (context.abort does)."""
    if isinstance(error, errors.DomainError):
        code = status_for(error)
        log.info("rpc=%s status=%s error=%s", method, code.name, error)
        await context.abort(
            code, status_message(error) or code.name.lower(), trailing_metadata=error_info(error)
        )
    log.error("rpc=%s unexpected error", method, exc_info=error)
    await context.abort(grpc.StatusCode.INTERNAL, INTERNAL_MESSAGE)


def _is_abort(error: BaseException) -> bool:
    # context.abort() raises AbortError; it must pass through untouched.
    return isinstance(error, grpc.aio.AbortError)


def maps_domain_errors(method: F) -> F:
    """Turns DomainError into its status code and anything unexpected into INTERNAL."""
    name = method.__qualname__

    if inspect.isasyncgenfunction(method):

        @functools.wraps(method)
        async def streaming(self: Any, request: Any, context: Any) -> AsyncIterator[Any]:
            try:
                async for response in method(self, request, context):
                    yield response
            except Exception as error:
                if _is_abort(error):
                    raise
                await _abort_for(error, context, name)

        return streaming  # type: ignore[return-value]

    if not inspect.iscoroutinefunction(method):
        raise TypeError(f"maps_domain_errors needs an async method, got {name}")

    @functools.wraps(method)
    async def unary(self: Any, request: Any, context: Any) -> Any:
        try:
            return await method(self, request, context)
        except Exception as error:
            if _is_abort(error):
                raise
            await _abort_for(error, context, name)

    return unary  # type: ignore[return-value]
