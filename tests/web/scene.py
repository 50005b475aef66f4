"""A small busy network for the dashboard's screenshots: a real server in this process, four
people, six simulated nodes speaking real gRPC (lease, hold the task a few seconds with
heartbeats, upload a result, complete), and jobs at every stage. The nodes keep working, at
speeds that drift, until the scene is closed; the network page samples its history every
second."""

from __future__ import annotations

import asyncio
import contextlib
import random
from dataclasses import dataclass, field
from pathlib import Path

import grpc

from proto.hivemind.v1 import common_pb2, job_pb2, node_pb2
from server.app import HiveMindServer
from tests.kit.accounts import UserSession, register_user
from tests.kit.servers import start_server
from tests.kit.simulated_nodes import SimNode, sim_node, submit_job, work
from tests.kit.stubs import Stubs, lease, make_zip, sha256, upload


def zipped_output(index: int) -> bytes:
    return make_zip({"result.txt": f"square of {index} is {index * index}\n".encode()})


@dataclass
class Scene:
    server: HiveMindServer
    channel: grpc.aio.Channel
    stubs: Stubs
    people: dict[str, UserSession] = field(default_factory=dict)
    nodes: list[SimNode] = field(default_factory=list)
    jobs: dict[str, str] = field(default_factory=dict)  # a short name -> job id
    workers: list[asyncio.Task[None]] = field(default_factory=list)

    async def tasks_done(self, job: str) -> int:
        detail = await self.stubs.jobs.GetJob(
            job_pb2.GetJobRequest(job_id=self.jobs[job]), metadata=self.people["alice"].metadata
        )
        return detail.job.tasks_done

    async def close(self) -> None:
        for task in self.workers:
            task.cancel()
        for task in self.workers:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await self.channel.close()
        await self.server.stop(grace=0.5)


async def heartbeat(stubs: Stubs, node: SimNode, running: list[str], paused: bool = False) -> None:
    await stubs.nodes.Heartbeat(
        node_pb2.HeartbeatRequest(
            running_attempt_ids=running,
            paused=paused,
            pause_reason="on battery" if paused else "",
        ),
        metadata=node.node.metadata,
    )


async def keep_working(stubs: Stubs, node: SimNode, seed: int) -> None:
    """Leases one to three tasks, runs them for a few seconds, reports them; again."""
    rng = random.Random(seed)
    while True:
        leases = await lease(stubs, node.node, max_tasks=rng.randint(1, 3))
        running = [item.attempt_id for item in leases]
        held = rng.uniform(1.0, 4.0) if leases else 1.0
        for _ in range(int(held)):
            await heartbeat(stubs, node, running)
            await asyncio.sleep(1.0)
        completions = []
        for item in leases:
            data = node.output(item.task_index)
            await upload(stubs, node.node.metadata, data, common_pb2.ARTIFACT_KIND_RESULT)
            completions.append(
                node_pb2.Completion(
                    attempt_id=item.attempt_id,
                    result_digest=sha256(data),
                    result_size=len(data),
                    log=f"task {item.task_index}: {rng.randint(1000, 9999)} samples\n",
                    stats=node_pb2.AttemptStats(wall_seconds=held, cpu_seconds=held),
                )
            )
        if completions:
            await stubs.nodes.CompleteAttempts(
                node_pb2.CompleteAttemptsRequest(completions=completions),
                metadata=node.node.metadata,
            )


async def build_scene(data_dir: Path, seconds: float = 60.0) -> Scene:
    server = await start_server(
        data_dir,
        http_listen="127.0.0.1:0",
        web_sample_interval_s=1.0,
        node_offline_after_s=3600,
        bittorrent=False,
    )
    channel = grpc.aio.insecure_channel(server.address)
    scene = Scene(server, channel, Stubs(channel, server.address))
    for name, admin in (("alice", True), ("bob", False), ("carol", False), ("dave", False)):
        scene.people[name] = await register_user(
            server.address, name, admin=admin, data_dir=data_dir
        )
    stubs, people = scene.stubs, scene.people
    for owner, name in (
        ("bob", "bob-desktop"),
        ("bob", "bob-laptop"),
        ("carol", "carol-workstation"),
        ("carol", "carol-server"),
        ("dave", "dave-mini"),
        ("alice", "alice-nas"),
    ):
        scene.nodes.append(await sim_node(stubs, people[owner], name, output=zipped_output))
    short = common_pb2.Resources(cores=1, memory_mb=256, timeout_s=30)
    wordcount = await submit_job(
        stubs, people["alice"], name="wordcount (chapters)", task_count=6, resources=short
    )
    scene.jobs["wordcount"] = wordcount.job_id
    while sum([await work(stubs, node, 2, wall_seconds=20.0) for node in scene.nodes[:3]]):
        pass
    sweep = await submit_job(
        stubs, people["dave"], name="parameter sweep", task_count=30, resources=short
    )
    scene.jobs["sweep"] = sweep.job_id
    await work(stubs, scene.nodes[3], 4, wall_seconds=20.0)
    await stubs.jobs.CancelJob(
        job_pb2.CancelJobRequest(job_id=sweep.job_id), metadata=people["dave"].metadata
    )
    pi = await submit_job(
        stubs, people["alice"], name="π by Monte Carlo", task_count=400, resources=short
    )
    scene.jobs["pi"] = pi.job_id
    frames = await submit_job(
        stubs, people["dave"], name="render frames 1-240", task_count=240, resources=short
    )
    scene.jobs["frames"] = frames.job_id
    laptop = scene.nodes[1]
    await heartbeat(stubs, laptop, [], paused=True)
    for seed, node in enumerate(scene.nodes):
        if node is not laptop:
            scene.workers.append(asyncio.create_task(keep_working(stubs, node, seed)))
    await asyncio.sleep(seconds)
    return scene
