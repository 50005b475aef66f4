"""The standard gRPC services beside HiveMind's own: health checking (grpc.health.v1) and
server reflection, so the ecosystem's tools work unchanged against a HiveMind server:
`grpc_health_probe`, HAProxy's and Kubernetes' gRPC probes, `grpcurl list` and
`grpcurl describe`.

Both answer without a credential (auth.OPEN_METHODS): a probe has no account, and what they
tell (the names and message types of the public wire contract, whether the server serves) is
no secret. Every HiveMind service and the overall status ("") are SERVING while the server
takes calls and NOT_SERVING from the moment it begins to stop, so a load balancer drains a
replica before its calls are refused.
"""

from __future__ import annotations

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from proto.hivemind.v1 import (
    account_pb2,
    admin_pb2,
    artifact_pb2,
    auth_pb2,
    job_pb2,
    node_pb2,
)

SERVICES = tuple(
    service.full_name
    for module in (auth_pb2, account_pb2, admin_pb2, node_pb2, job_pb2, artifact_pb2)
    for service in module.DESCRIPTOR.services_by_name.values()
)
HEALTH_SERVICE = health_pb2.DESCRIPTOR.services_by_name["Health"].full_name
OPEN_METHODS = frozenset(
    {
        f"/{HEALTH_SERVICE}/Check",
        f"/{HEALTH_SERVICE}/Watch",
        f"/{reflection.SERVICE_NAME}/ServerReflectionInfo",
    }
)
SERVING = health_pb2.HealthCheckResponse.SERVING


def add_standard_services(server: grpc.aio.Server) -> health.aio.HealthServicer:
    """Adds health checking and reflection to `server`; returns the health servicer, whose
    statuses start as unknown until `serving` is called."""
    servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(servicer, server)
    reflection.enable_server_reflection(
        (*SERVICES, HEALTH_SERVICE, reflection.SERVICE_NAME), server
    )
    return servicer


async def serving(servicer: health.aio.HealthServicer) -> None:
    """The server takes calls: every service, and the server as a whole, is SERVING."""
    for name in ("", *SERVICES):
        await servicer.set(name, SERVING)
