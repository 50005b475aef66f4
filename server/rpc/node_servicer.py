"""NodeService: registration with a user's token; everything else with the node credential.
Thin: checks the caller, converts, calls server.nodes, server.scheduling and server.validation."""

from __future__ import annotations

import dataclasses

import grpc

from proto.hivemind.v1 import node_pb2, node_pb2_grpc
from server.context import ServerContext
from server.nodes import credentials as node_secrets
from server.nodes import registry as nodes
from server.nodes.networks import network_of
from server.rpc import job_converters as convert
from server.rpc.auth import principal_of, require_node, require_user
from server.rpc.errors import maps_domain_errors
from server.scheduling import idle
from server.store.invalidation import NODE
from server.torrent.peers import observed_endpoint
from server.validation import intake, returns


class NodeServicer(node_pb2_grpc.NodeServiceServicer):
    def __init__(self, ctx: ServerContext) -> None:
        self.ctx = ctx

    def _network(self, context: grpc.aio.ServicerContext) -> str:
        """The network this call came from, as the server sees it (server/nodes/networks.py)."""
        settings = self.ctx.settings
        return network_of(context.peer(), settings.network_prefix_v4, settings.network_prefix_v6)

    @maps_domain_errors
    async def RegisterNode(
        self, request: node_pb2.RegisterNodeRequest, context: grpc.aio.ServicerContext
    ) -> node_pb2.RegisterNodeResponse:
        user = require_user(context)
        credential = await nodes.register_node(
            self.ctx,
            user.user_id,
            request.name,
            convert.hardware_from_proto(request.hardware),
            list(request.runtimes),
            list(request.executors),
            network=self._network(context),
        )
        return node_pb2.RegisterNodeResponse(
            node_id=credential.node_id,
            node_secret=credential.secret,
            heartbeat_interval_s=credential.heartbeat_interval_s,
        )

    @maps_domain_errors
    async def UpdateNode(
        self, request: node_pb2.UpdateNodeRequest, context: grpc.aio.ServicerContext
    ) -> node_pb2.UpdateNodeResponse:
        node = require_node(context)
        await nodes.update_node(
            self.ctx,
            node.node_id,
            convert.hardware_from_proto(request.hardware),
            list(request.runtimes),
            list(request.executors),
        )
        return node_pb2.UpdateNodeResponse()

    @maps_domain_errors
    async def Heartbeat(
        self, request: node_pb2.HeartbeatRequest, context: grpc.aio.ServicerContext
    ) -> node_pb2.HeartbeatResponse:
        node = require_node(context)
        beat = convert.beat_from_proto(request)
        endpoint = observed_endpoint(beat.bt_endpoint, context.peer())
        beat = dataclasses.replace(beat, bt_endpoint=endpoint)
        reply = await nodes.heartbeat(self.ctx, node.node_id, beat, self._network(context))
        return node_pb2.HeartbeatResponse(
            cancel_attempt_ids=reply.cancel_attempt_ids,
            lease_deadline=int(reply.lease_deadline),
            heartbeat_interval_s=reply.heartbeat_interval_s,
        )

    @maps_domain_errors
    async def LeaseTasks(
        self, request: node_pb2.LeaseTasksRequest, context: grpc.aio.ServicerContext
    ) -> node_pb2.LeaseTasksResponse:
        node = require_node(context)
        leased = await idle.lease(
            self.ctx,
            node.node_id,
            convert.lease_request(request),
            self._network(context),
            request.wait_ms / 1000,
        )
        return node_pb2.LeaseTasksResponse(
            leases=[convert.lease_to_proto(x) for x in leased.leases], held_back=leased.held_back
        )

    @maps_domain_errors
    async def StartAttempts(
        self, request: node_pb2.StartAttemptsRequest, context: grpc.aio.ServicerContext
    ) -> node_pb2.AttemptAcks:
        node = require_node(context)
        acks = await intake.start(self.ctx, node.node_id, list(request.attempt_ids))
        return convert.acks_to_proto(acks)

    @maps_domain_errors
    async def CompleteAttempts(
        self, request: node_pb2.CompleteAttemptsRequest, context: grpc.aio.ServicerContext
    ) -> node_pb2.AttemptAcks:
        node = require_node(context)
        acks = await intake.complete(
            self.ctx,
            node.node_id,
            node.user_id,
            convert.completions_from_proto(request),
            self._network(context),
        )
        return convert.acks_to_proto(acks)

    @maps_domain_errors
    async def FailAttempts(
        self, request: node_pb2.FailAttemptsRequest, context: grpc.aio.ServicerContext
    ) -> node_pb2.AttemptAcks:
        node = require_node(context)
        acks = await intake.fail(self.ctx, node.node_id, convert.failures_from_proto(request))
        return convert.acks_to_proto(acks)

    @maps_domain_errors
    async def ReturnAttempts(
        self, request: node_pb2.ReturnAttemptsRequest, context: grpc.aio.ServicerContext
    ) -> node_pb2.AttemptAcks:
        node = require_node(context)
        acks = await returns.hand_back(
            self.ctx, node.node_id, list(request.attempt_ids), request.reason
        )
        return convert.acks_to_proto(acks)

    @maps_domain_errors
    async def RotateNodeSecret(
        self, request: node_pb2.RotateNodeSecretRequest, context: grpc.aio.ServicerContext
    ) -> node_pb2.RegisterNodeResponse:
        caller = principal_of(context)  # the node itself, or the user who owns it
        credential = await node_secrets.rotate_node_secret(
            self.ctx, caller.user_id, request.node_id, caller.node_id
        )
        # The old secret ends now, on every replica.
        self.ctx.invalidations.announce(NODE, credential.node_id)
        return node_pb2.RegisterNodeResponse(
            node_id=credential.node_id,
            node_secret=credential.secret,
            heartbeat_interval_s=credential.heartbeat_interval_s,
        )
