"""What every interceptor here does to a method: the same handler, its behaviour wrapped."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import grpc

Behaviour = Callable[..., Any]


def rewrap(
    handler: grpc.RpcMethodHandler,
    wrap: Callable[[Behaviour], Behaviour],
    request_deserializer: Callable[[bytes], Any] | None = None,
) -> grpc.RpcMethodHandler:
    """`handler` with its behaviour (whichever of the four kinds it is) passed through `wrap`,
    and its request deserializer replaced when one is given."""
    args = {
        "request_deserializer": request_deserializer or handler.request_deserializer,
        "response_serializer": handler.response_serializer,
    }
    if handler.unary_unary:
        return grpc.unary_unary_rpc_method_handler(wrap(handler.unary_unary), **args)
    if handler.unary_stream:
        return grpc.unary_stream_rpc_method_handler(wrap(handler.unary_stream), **args)
    if handler.stream_unary:
        return grpc.stream_unary_rpc_method_handler(wrap(handler.stream_unary), **args)
    return grpc.stream_stream_rpc_method_handler(wrap(handler.stream_stream), **args)
