"""The standard gRPC health-checking and reflection services, as a probe and grpcurl use
them: without a credential, against a real server on loopback."""

from __future__ import annotations

import asyncio

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from proto.hivemind.v1 import job_pb2, job_pb2_grpc

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


async def test_health_is_serving_until_the_server_begins_to_stop(server):
    async with grpc.aio.insecure_channel(server.address) as channel:
        probe = health_pb2_grpc.HealthStub(channel)
        for service in ("", "hivemind.v1.NodeService", "hivemind.v1.JobService"):
            reply = await probe.Check(health_pb2.HealthCheckRequest(service=service))
            assert reply.status == SERVING, service
        try:
            await probe.Check(health_pb2.HealthCheckRequest(service="no.such.Service"))
            raise AssertionError("an unknown service was reported")
        except grpc.aio.AioRpcError as error:
            assert error.code() == grpc.StatusCode.NOT_FOUND

        # A load balancer watching the replica hears NOT_SERVING when it begins to stop.
        watch = probe.Watch(health_pb2.HealthCheckRequest(service=""))
        assert (await watch.read()).status == SERVING
        stopping = asyncio.create_task(server.stop(grace=1.0))
        assert (await asyncio.wait_for(watch.read(), 5)).status == NOT_SERVING
        await stopping


async def test_reflection_lists_and_describes_the_wire_contract(server):
    async with grpc.aio.insecure_channel(server.address) as channel:
        stub = reflection_pb2_grpc.ServerReflectionStub(channel)
        requests = [
            reflection_pb2.ServerReflectionRequest(list_services=""),
            reflection_pb2.ServerReflectionRequest(file_containing_symbol="hivemind.v1.JobService"),
        ]
        replies = [reply async for reply in stub.ServerReflectionInfo(iter(requests))]
    listed = {service.name for service in replies[0].list_services_response.service}
    assert {
        "hivemind.v1.AuthService",
        "hivemind.v1.AccountService",
        "hivemind.v1.AdminService",
        "hivemind.v1.NodeService",
        "hivemind.v1.JobService",
        "hivemind.v1.ArtifactService",
        "grpc.health.v1.Health",
    } <= listed
    files = replies[1].file_descriptor_response.file_descriptor_proto
    assert files and any(b"SubmitJob" in serialized for serialized in files)


async def test_our_services_still_need_a_credential(server):
    async with grpc.aio.insecure_channel(server.address) as channel:
        try:
            await job_pb2_grpc.JobServiceStub(channel).ListJobs(job_pb2.ListJobsRequest())
            raise AssertionError("ListJobs answered without a credential")
        except grpc.aio.AioRpcError as error:
            assert error.code() == grpc.StatusCode.UNAUTHENTICATED
