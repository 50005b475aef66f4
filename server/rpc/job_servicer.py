"""JobService: a submitter's jobs. Thin: checks the caller, converts, calls server.jobs."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator

import grpc

from proto.hivemind.v1 import job_pb2, job_pb2_grpc
from server.context import ServerContext
from server.jobs import lifecycle, queries, submit
from server.jobs.events import watch_job
from server.jobs.spec import estimate_cost
from server.ledger import starter
from server.nodes.networks import network_of
from server.rpc import job_converters as convert
from server.rpc.auth import require_user
from server.rpc.errors import maps_domain_errors
from server.validation.way_out import waiting_reason


class JobServicer(job_pb2_grpc.JobServiceServicer):
    def __init__(self, ctx: ServerContext) -> None:
        self.ctx = ctx

    @maps_domain_errors
    async def SubmitJob(
        self, request: job_pb2.SubmitJobRequest, context: grpc.aio.ServicerContext
    ) -> job_pb2.Job:
        settings = self.ctx.settings
        network = network_of(context.peer(), settings.network_prefix_v4, settings.network_prefix_v6)
        caller = dataclasses.replace(convert.caller_of(require_user(context)), network=network)
        job = await submit.submit_job(self.ctx, caller, convert.job_request(request))
        return convert.job_to_proto(job)

    @maps_domain_errors
    async def ListJobs(
        self, request: job_pb2.ListJobsRequest, context: grpc.aio.ServicerContext
    ) -> job_pb2.ListJobsResponse:
        caller = convert.caller_of(require_user(context))
        page = await queries.list_my_jobs(
            self.ctx, caller, request.page.page_size, request.page.page_token, request.all_users
        )
        return job_pb2.ListJobsResponse(
            jobs=[convert.job_to_proto(job) for job in page.jobs],
            next_page_token=page.next_page_token,
        )

    @maps_domain_errors
    async def GetJob(
        self, request: job_pb2.GetJobRequest, context: grpc.aio.ServicerContext
    ) -> job_pb2.JobDetail:
        caller = convert.caller_of(require_user(context))
        detail = await queries.get_job(self.ctx, caller, request.job_id, request.include_tasks)
        waiting = await self.ctx.db.run(waiting_reason, detail.job.job_id)
        return job_pb2.JobDetail(
            job=convert.job_to_proto(detail.job),
            tasks=[convert.task_to_proto(t) for t in detail.tasks],
            rounds=[convert.round_to_proto(r) for r in detail.rounds],
            waiting=waiting,
        )

    @maps_domain_errors
    async def CancelJob(
        self, request: job_pb2.CancelJobRequest, context: grpc.aio.ServicerContext
    ) -> job_pb2.Job:
        caller = convert.caller_of(require_user(context))
        return convert.job_to_proto(await lifecycle.cancel_job(self.ctx, caller, request.job_id))

    @maps_domain_errors
    async def WatchJob(
        self, request: job_pb2.WatchJobRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[job_pb2.JobEvent]:
        caller = convert.caller_of(require_user(context))
        async for update in watch_job(self.ctx, caller, request.job_id):
            yield convert.job_event_to_proto(update)

    @maps_domain_errors
    async def GetResults(
        self, request: job_pb2.GetResultsRequest, context: grpc.aio.ServicerContext
    ) -> job_pb2.GetResultsResponse:
        caller = convert.caller_of(require_user(context))
        results = await queries.job_results(self.ctx, caller, request.job_id)
        return job_pb2.GetResultsResponse(
            job=convert.job_to_proto(results.job),
            results=[convert.task_result_to_proto(task) for task in results.tasks],
        )

    @maps_domain_errors
    async def EstimateCost(
        self, request: job_pb2.EstimateCostRequest, context: grpc.aio.ServicerContext
    ) -> job_pb2.EstimateCostResponse:
        caller = require_user(context)
        res = request.resources
        worst = estimate_cost(
            self.ctx.settings,
            tasks=request.tasks,
            replicas=request.replicas,
            priority=request.priority,
            cores=res.cores,
            memory_mb=res.memory_mb,
            disk_mb=res.disk_mb,
            gpus=res.gpus,
            timeout_s=res.timeout_s,
            compare=request.compare,
            compare_timeout_s=request.compare_timeout_s,
            rounds=request.rounds,
            aggregate=request.aggregate,
        )
        funded_from = await self.ctx.db.run(starter.funded_from, caller.user_id, worst)
        return job_pb2.EstimateCostResponse(worst_case_ucpt=worst, funded_from=funded_from)
