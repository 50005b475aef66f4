"""ArtifactService: chunked upload and download of content-addressed artifacts.
Thin: checks the caller, converts, calls server.jobs.artifacts."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc

from proto.hivemind.v1 import artifact_pb2, artifact_pb2_grpc
from server.context import ServerContext
from server.errors import InvalidArgument
from server.jobs.artifacts import check_digest
from server.rpc import job_converters as convert
from server.rpc.auth import principal_of
from server.rpc.errors import maps_domain_errors
from server.torrent.peers import torrent_offer
from server.torrent.results import offered_result_steps


class ArtifactServicer(artifact_pb2_grpc.ArtifactServiceServicer):
    def __init__(self, ctx: ServerContext) -> None:
        self.ctx = ctx

    @maps_domain_errors
    async def Upload(
        self,
        request_iterator: AsyncIterator[artifact_pb2.UploadChunk],
        context: grpc.aio.ServicerContext,
    ) -> artifact_pb2.ArtifactInfo:
        caller = convert.caller_of(principal_of(context))
        first = await anext(aiter(request_iterator), None)
        if first is None or first.WhichOneof("part") != "header":
            raise InvalidArgument("an upload starts with a header (kind, size, sha256)")
        header = first.header
        kind = convert.KIND_NAMES.get(header.kind, "")
        if not kind:
            raise InvalidArgument("upload header needs a kind (package, input, result, runtime)")
        upload = await self.ctx.artifacts.begin_upload(
            caller, kind, header.size, header.sha256, header.name
        )
        try:
            async for chunk in request_iterator:
                if chunk.WhichOneof("part") != "data":
                    raise InvalidArgument("only one header per upload; the rest is data")
                await upload.write(chunk.data)
        except Exception:
            await upload.abort()  # a refusal: the reservation ends before the caller hears of it
            raise
        except BaseException:
            upload.discard()  # synchronous: this may run while the call is being cancelled
            raise
        return convert.artifact_to_proto(await upload.finish())

    @maps_domain_errors
    async def Download(
        self, request: artifact_pb2.DownloadRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[artifact_pb2.DownloadChunk]:
        caller = convert.caller_of(principal_of(context))
        record, chunks = await self.ctx.artifacts.download(caller, request.digest, request.offset)
        offset = request.offset
        async for data in chunks:
            yield artifact_pb2.DownloadChunk(data=data, offset=offset, total_size=record.size)
            offset += len(data)
        if record.size == 0 or offset == request.offset == record.size:
            # An empty artifact (or nothing left after offset) still answers with its size.
            yield artifact_pb2.DownloadChunk(data=b"", offset=offset, total_size=record.size)

    @maps_domain_errors
    async def Stat(
        self, request: artifact_pb2.StatRequest, context: grpc.aio.ServicerContext
    ) -> artifact_pb2.ArtifactInfo:
        caller = convert.caller_of(principal_of(context))
        digest = check_digest(request.digest)
        return convert.artifact_to_proto(await self.ctx.artifacts.stat(caller, digest), digest)

    @maps_domain_errors
    async def GetTorrent(
        self, request: artifact_pb2.GetTorrentRequest, context: grpc.aio.ServicerContext
    ) -> artifact_pb2.TorrentInfo:
        caller = convert.caller_of(principal_of(context))
        offer = await torrent_offer(self.ctx, caller, check_digest(request.digest))
        return artifact_pb2.TorrentInfo(
            digest=offer.seed.digest,
            torrent=offer.seed.torrent,
            info_hash=offer.seed.info_hash,
            peers=[artifact_pb2.Peer(endpoint=p.endpoint, node_id=p.node_id) for p in offer.peers],
        )

    @maps_domain_errors
    async def OfferResult(
        self, request: artifact_pb2.OfferResultRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[artifact_pb2.OfferResultStep]:
        caller = convert.caller_of(principal_of(context))
        steps = offered_result_steps(
            self.ctx, caller, request.digest, request.size, request.torrent, request.name
        )
        try:
            async for step, endpoint, record in steps:
                if step == "connect_to":
                    yield artifact_pb2.OfferResultStep(connect_to=endpoint)
                else:
                    yield artifact_pb2.OfferResultStep(stored=convert.artifact_to_proto(record))
        finally:
            await steps.aclose()
