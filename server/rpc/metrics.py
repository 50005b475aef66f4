"""Counting and timing every gRPC call: one interceptor, outermost, so a call refused by the
auth or limits interceptors is counted with the status it got.

Per call this costs two label lookups and an add under a lock, never a query. Only methods
the server serves are counted (an unknown method has no handler), so the label values are
bounded by the services in proto/.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc

from server.metrics import RPC_HANDLED, RPC_SECONDS
from server.rpc.handlers import Behaviour, rewrap


def _code_name(context: Any, error: BaseException | None) -> str:
    """The status the call ended with: what the handler set or aborted with, else OK, or
    CANCELLED/UNKNOWN for a call that ended by an exception nobody mapped."""
    if isinstance(error, asyncio.CancelledError):
        return "CANCELLED"
    code = context.code()
    if isinstance(code, grpc.StatusCode):
        return code.name
    if error is not None and not isinstance(error, grpc.aio.AbortError):
        return "UNKNOWN"
    return "OK"


def _observe(method: str, context: Any, began: float, error: BaseException | None) -> None:
    code = _code_name(context, error)
    RPC_HANDLED.labels(method, code).inc()
    RPC_SECONDS.labels(method, code).observe(time.perf_counter() - began)


def _measured(method: str, behaviour: Behaviour) -> Behaviour:
    """The behaviour, counted and timed; it keeps its kind (coroutine or async generator),
    which grpc.aio inspects to decide how to run it."""
    if inspect.isasyncgenfunction(behaviour):

        async def streaming(request: Any, context: Any) -> AsyncIterator[Any]:
            began = time.perf_counter()
            try:
                async for response in behaviour(request, context):
                    yield response
            except BaseException as error:
                _observe(method, context, began, error)
                raise
            _observe(method, context, began, None)

        return streaming

    async def unary(request: Any, context: Any) -> Any:
        began = time.perf_counter()
        try:
            response = await behaviour(request, context)
        except BaseException as error:
            _observe(method, context, began, error)
            raise
        _observe(method, context, began, None)
        return response

    return unary


class MetricsInterceptor(grpc.aio.ServerInterceptor):
    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(handler_call_details)
        if handler is None:
            return handler
        method = handler_call_details.method
        return rewrap(handler, lambda behaviour: _measured(method, behaviour))
