"""Request limits at the edge: every request message of every RPC is checked before its
handler runs, so no field can carry more than the server is prepared to hold.

gRPC caps a whole message (server/app.py: MAX_RECEIVE_BYTES); this caps each field inside
it: string length, number of items in a repeated field, and doubles must be finite. The
domain still checks what each value means (a username's characters, a memo's length, a
job's resources); these limits are the ceiling that holds for fields nobody thought of, and
for every RPC added later. A request over a limit gets INVALID_ARGUMENT naming the field.

A request whose bytes are not a valid message at all (corrupt wire format, a string that is
not UTF-8) also gets INVALID_ARGUMENT, instead of grpc's UNKNOWN with a Python exception text.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import DecodeError, Message

from server.errors import InvalidArgument
from server.rpc.errors import status_message
from server.rpc.handlers import Behaviour, rewrap

MAX_STRING_CHARS = 4096
MAX_REPEATED_ITEMS = 1000
LOG_CHARS = 1024 * 1024  # logs are cut to settings.max_log_bytes by the domain

# Fields allowed more than the defaults (full protobuf names).
STRING_LIMITS: dict[str, int] = {
    "hivemind.v1.Completion.log": LOG_CHARS,
    "hivemind.v1.Failure.log": LOG_CHARS,
    "hivemind.v1.Failure.error": 64 * 1024,  # the domain keeps one line of 1000 characters
    "hivemind.v1.SubmitJobRequest.command": 64 * 1024,  # the domain caps the whole argv
    "hivemind.v1.SubmitJobRequest.compare_command": 64 * 1024,
    "hivemind.v1.SubmitJobRequest.aggregate_command": 64 * 1024,
}
REPEATED_LIMITS: dict[str, int] = {
    "hivemind.v1.SubmitJobRequest.command": 1024,
    "hivemind.v1.SubmitJobRequest.compare_command": 1024,
    "hivemind.v1.SubmitJobRequest.aggregate_command": 1024,
    "hivemind.v1.SubmitJobRequest.inputs": 100_000,  # the domain caps at max_tasks_per_job
    "hivemind.v1.HeartbeatRequest.seeding_digests": 10_000,
    "hivemind.v1.RegisterNodeRequest.runtimes": 64,
    "hivemind.v1.UpdateNodeRequest.runtimes": 64,
    "hivemind.v1.LeaseTasksRequest.runtimes": 64,
    "hivemind.v1.RegisterNodeRequest.executors": 8,
    "hivemind.v1.UpdateNodeRequest.executors": 8,
}
_FLOATS = (FieldDescriptor.TYPE_DOUBLE, FieldDescriptor.TYPE_FLOAT)


def check_request(message: Message, path: str = "") -> None:
    """Raises InvalidArgument for the first field over its limit."""
    for field, value in message.ListFields():
        name = f"{path}{field.name}"
        if field.is_repeated:
            limit = REPEATED_LIMITS.get(field.full_name, MAX_REPEATED_ITEMS)
            if len(value) > limit:
                raise InvalidArgument(f"{name} has {len(value)} items; at most {limit} allowed")
            for index, item in enumerate(value):
                _check_value(field, item, f"{name}[{index}]")
        else:
            _check_value(field, value, name)


def _check_value(field: FieldDescriptor, value: Any, name: str) -> None:
    if field.type == FieldDescriptor.TYPE_STRING:
        limit = STRING_LIMITS.get(field.full_name, MAX_STRING_CHARS)
        if len(value) > limit:
            raise InvalidArgument(f"{name} is {len(value)} characters long; at most {limit}")
    elif field.type in _FLOATS:
        if not math.isfinite(value):
            raise InvalidArgument(f"{name} must be a finite number (got {value})")
    elif field.type == FieldDescriptor.TYPE_MESSAGE:
        check_request(value, f"{name}.")


class _Malformed:
    """Stands in for a request whose bytes did not parse; the handler wrapper refuses it."""

    __slots__ = ("reason",)

    def __init__(self, reason: str) -> None:
        self.reason = reason


def _safe_deserializer(deserialize: Callable[[bytes], Any] | None) -> Callable[[bytes], Any]:
    def parse(data: bytes) -> Any:
        if deserialize is None:
            return data
        try:
            return deserialize(data)
        except DecodeError as error:
            return _Malformed(str(error))

    return parse


def _checked(request: Any) -> Any:
    if isinstance(request, _Malformed):
        raise InvalidArgument(f"malformed request: {request.reason}")
    if isinstance(request, Message):
        check_request(request)
    return request


async def _checked_stream(requests: AsyncIterator[Any]) -> AsyncIterator[Any]:
    async for request in requests:
        yield _checked(request)


def _with_limits(behaviour: Behaviour, streamed_requests: bool) -> Behaviour:
    """The behaviour, refusing over-limit requests with INVALID_ARGUMENT. A streamed
    request's messages are checked as the handler reads them: the error surfaces inside the
    handler, whose error mapping turns it into the status (and cleans up, e.g. an upload)."""

    async def refuse(context: Any, error: InvalidArgument) -> None:
        await context.abort(grpc.StatusCode.INVALID_ARGUMENT, status_message(error))

    if inspect.isasyncgenfunction(behaviour):

        async def streaming(request: Any, context: Any) -> AsyncIterator[Any]:
            if streamed_requests:
                request = _checked_stream(request)
            else:
                try:
                    _checked(request)
                except InvalidArgument as error:
                    await refuse(context, error)
            async for response in behaviour(request, context):
                yield response

        return streaming

    async def unary(request: Any, context: Any) -> Any:
        if streamed_requests:
            request = _checked_stream(request)
        else:
            try:
                _checked(request)
            except InvalidArgument as error:
                await refuse(context, error)
        return await behaviour(request, context)

    return unary


class RequestLimitsInterceptor(grpc.aio.ServerInterceptor):
    """Applies `check_request` to every request of every method (see the module docstring)."""

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(handler_call_details)
        if handler is None:
            return handler
        streamed = handler.request_streaming  # its messages are checked as they are read
        return rewrap(
            handler,
            lambda behaviour: _with_limits(behaviour, streamed),
            _safe_deserializer(handler.request_deserializer),
        )
