"""GPUs end to end on a machine without one: a fake NVML says which GPUs there are and a fake
GPU runtime (the process executor claiming Docker's NVIDIA runtime) runs the tasks; the rest
is real: the worker agent, its settings, a server on loopback, the scheduler, the payouts."""

from __future__ import annotations

import asyncio
import time

import pytest

from app.cli.job_view import show_status, status_fields
from app.services.executors.base import ExecutionResult, LogCallback, TaskSpec
from app.services.executors.process.executor import ProcessExecutor
from app.services.gpu import GpuDevice, GpuSupport, detect_gpus, offered_gpus
from app.services.jobs.package import load_package
from app.services.jobs.submission import submit_package
from app.services.settings import SettingsStore
from app.services.worker.agent import WorkerAgent
from app.services.worker.options import WorkerOptions
from app.ui import job_actions
from proto.hivemind.v1 import common_pb2, job_pb2
from server.validation.way_out import NO_FREE_GPU
from tests.kit.client_cli import worker_command
from tests.kit.fake_nvml import FakeNvml
from tests.kit.network import job_detail, wait_for_job, write_package

TWO_GPUS = [("NVIDIA GeForce RTX 4090", 24564), ("NVIDIA GeForce RTX 4090", 24564)]


class FakeGpuRuntime(ProcessExecutor):
    """The process executor, claiming an NVIDIA container runtime; it records each task's
    GPUs (the Docker executor turns them into the device request: tests/docker)."""

    def __init__(self) -> None:
        super().__init__()
        self.gpus_given: list[tuple[int, tuple[str, ...]]] = []

    async def gpu_support(self) -> GpuSupport:
        return GpuSupport(True, "", "nvidia")

    async def run(
        self, spec: TaskSpec, cancel: asyncio.Event, on_log: LogCallback | None = None
    ) -> ExecutionResult:
        self.gpus_given.append((spec.gpus, spec.gpu_devices))
        return await super().run(spec, cancel, on_log)


def test_nvml_lists_the_gpus_and_a_machine_without_a_driver_has_none():
    nvml = FakeNvml(TWO_GPUS)
    assert detect_gpus(nvml) == [
        GpuDevice(0, "GPU-fake-0000", "NVIDIA GeForce RTX 4090", 24564),
        GpuDevice(1, "GPU-fake-0001", "NVIDIA GeForce RTX 4090", 24564),
    ]
    assert not nvml.open  # shut down again
    assert detect_gpus(FakeNvml(TWO_GPUS, driver=False)) == []
    assert detect_gpus() == []  # this machine: pynvml is installed, no NVIDIA driver


def test_what_a_worker_lends():
    runtime, no_runtime = GpuSupport(True, "", "nvidia"), GpuSupport(False, "no runtime")
    assert offered_gpus(2, share=True, allowed=0, support=runtime) == 2
    assert offered_gpus(2, share=True, allowed=1, support=runtime) == 1
    assert offered_gpus(2, share=True, allowed=5, support=runtime) == 2
    assert offered_gpus(2, share=False, allowed=0, support=runtime) == 0
    assert offered_gpus(2, share=True, allowed=0, support=no_runtime) == 0
    assert offered_gpus(2, share=True, allowed=0, support=None) == 0  # process executor
    assert offered_gpus(0, share=True, allowed=0, support=runtime) == 0


def gpu_package(folder, gpus: int):
    write_package(folder, "import time\ntime.sleep(0.3)\nprint('trained')\n", tasks=2)
    manifest = folder / "hivemind.toml"
    resources = f"\n[resources]\ngpus = {gpus}\nmemory_mb = 128\ntimeout_s = 60\n"
    manifest.write_text(manifest.read_text() + resources)
    return load_package(folder)


async def wait_for(predicate, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not await predicate():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.1)


async def test_a_gpu_job_waits_says_why_then_runs_on_the_lent_gpu_and_pays_gpu_time(
    server, network, tmp_path, capsys
):
    alice = await network.person(server.address, "alice")
    bob = await network.person(server.address, "bob")
    bob.settings.update_contributor(cores=2, gpu=False, gpus=1)  # the switch is off
    runtime = FakeGpuRuntime()
    agent = WorkerAgent(
        bob.session,
        bob.settings,
        runtime,
        bob.credentials,
        options=WorkerOptions(name="bob-gpu", lease_poll_s=0.2),
        nvml=FakeNvml(TWO_GPUS),
    )
    run = asyncio.create_task(agent.run())
    try:
        # The app's one submit path keeps the package's gpus.
        package = gpu_package(tmp_path / "train", gpus=1)
        job = await submit_package(alice.session, package, key_prefix="test")
        assert job.resources.gpus == 1

        async def says_no_gpu() -> bool:
            return (await job_detail(alice, job.job_id)).waiting == NO_FREE_GPU

        async def registered() -> bool:
            return bool(agent.registration.node_id)

        await wait_for(registered)
        await wait_for(says_no_gpu)  # bob's node is online, and lends no GPU
        # `hivemind job status` and the app's job list say so.
        show_status(status_fields(await job_detail(alice, job.job_id)))
        assert "waiting: no node with a free GPU is online" in capsys.readouterr().out
        [row] = await job_actions.list_jobs(alice.session)
        assert (row.gpus, row.waiting) == (1, NO_FREE_GPU)
        assert agent.registration.hardware.gpus == 2  # what NVML found
        assert (await agent.capacity.lease_request()).free_gpus == 0
        assert runtime.gpus_given == []

        bob.settings.update_contributor(gpu=True)  # shares one of its two GPUs now
        assert agent.capacity.usage().free_gpus == 1
        done = await wait_for_job(alice, job.job_id)
        assert done.state == common_pb2.JOB_STATE_DONE
        # One GPU lent: the two tasks ran one after the other, each on the first GPU.
        assert runtime.gpus_given == [(1, ("GPU-fake-0000",)), (1, ("GPU-fake-0000",))]
        assert (await job_detail(alice, job.job_id)).waiting == ""
    finally:
        agent.request_stop(drain_timeout_s=0)
        await asyncio.wait_for(run, 30)

    # GPU time is paid at the GPU-hour rate on top of the core time.
    settings = server.settings
    per_second = (settings.base_ucpt_per_core_hour + settings.base_ucpt_per_gpu_hour) / 3600
    assert done.cost_ucpt >= 2 * 0.3 * per_second
    cpu_only = await alice.session.jobs.EstimateCost(
        job_pb2.EstimateCostRequest(
            resources=common_pb2.Resources(cores=1, memory_mb=128, timeout_s=60), tasks=2
        )
    )
    with_gpu = await alice.session.jobs.EstimateCost(
        job_pb2.EstimateCostRequest(
            resources=common_pb2.Resources(cores=1, memory_mb=128, timeout_s=60, gpus=1), tasks=2
        )
    )
    ratio = with_gpu.worst_case_ucpt / cpu_only.worst_case_ucpt
    expected = 1 + settings.base_ucpt_per_gpu_hour / settings.base_ucpt_per_core_hour
    assert abs(ratio - expected) < 0.01
    assert done.max_cost_ucpt == with_gpu.worst_case_ucpt


async def test_a_negative_gpu_count_is_refused_in_one_line(tmp_path):
    argv, env = worker_command(tmp_path / "home", "127.0.0.1:1", "--gpus", "-1")
    proc = await asyncio.create_subprocess_exec(
        *argv, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    _out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode != 0
    assert err.decode().strip().splitlines()[-1].endswith("--gpus must not be negative")


def test_a_negative_gpu_setting_is_refused_and_nothing_changes(tmp_path):
    store = SettingsStore(tmp_path / "home")
    store.update_contributor(gpu=True, gpus=2)
    with pytest.raises(ValueError, match="gpus must not be negative"):
        store.update_contributor(gpus=-1)
    assert SettingsStore(tmp_path / "home").settings.contributor.gpus == 2
