"""The sandbox's shape and the executor's answers without a daemon. These need no dockerd:
they read the plan the executor hands to Docker, and talk to a socket nobody listens on."""

from __future__ import annotations

import asyncio
import os
import stat

import docker
import pytest

from app.services.executors.base import TaskSpec
from app.services.executors.docker.config import (
    LABEL_ATTEMPT,
    LABEL_INSTANCE,
    LABEL_TASK,
    build_plan,
    container_user,
    prepare_mounts,
)
from app.services.executors.docker.executor import DockerExecutor
from app.services.gpu import NO_NVIDIA_RUNTIME, detect_gpu_support, gpu_support_from_info


@pytest.fixture
def spec(tmp_path) -> TaskSpec:
    package = tmp_path / "package"
    package.mkdir()
    (package / "main.py").write_text("print('hi')\n")
    data = tmp_path / "cache" / "input-1.txt"
    data.parent.mkdir()
    data.write_text("words")
    (data.parent / "someone-elses-input.txt").write_text("secret")
    return TaskSpec(
        attempt_id="att-1",
        job_id="job-1",
        task_index=4,
        runtime="python-3.11",
        command=["python3", "main.py"],
        package_dir=package,
        output_dir=tmp_path / "output",
        work_dir=tmp_path,
        input_path=data,
        cores=2,
        cpu_percent=50,
        memory_mb=256,
        env={"HIVEMIND_OUTPUT": "/elsewhere", "SEED": "7"},
    )


def test_every_container_is_hardened(spec):
    plan = build_plan(spec, "hivemind/python:3.11", instance="w1", user=(65534, 65534))
    config = plan.host_config_kwargs()
    assert config["network_mode"] == "none"
    assert config["read_only"] is True
    assert config["cap_drop"] == ["ALL"]
    assert config["security_opt"] == ["no-new-privileges"]
    assert config["init"] is True
    assert config["pids_limit"] == 256
    assert config["mem_limit"] == config["memswap_limit"] == "256m"  # no swap beyond it
    assert config["nano_cpus"] == 1_000_000_000  # 2 cores x 50 %
    assert config["tmpfs"] == {"/tmp": "rw,nosuid,nodev,size=64m,nr_inodes=25000,mode=1777"}
    assert plan.user == "65534:65534"
    assert plan.labels == {LABEL_TASK: "1", LABEL_ATTEMPT: "att-1", LABEL_INSTANCE: "w1"}


def test_mounts_and_environment(spec):
    plan = build_plan(spec, "img", instance="w1", user=(1000, 1000))
    mounts = {target: (source, read_only) for source, target, read_only in plan.mounts}
    assert mounts == {
        "/task": (str(spec.package_dir.resolve()), True),
        "/output": (str(spec.output_dir.resolve()), False),
        # Only the input file, never the cache directory around it.
        "/input/input-1.txt": (str(spec.input_path.resolve()), True),
    }
    env = plan.environment
    assert env["HIVEMIND_TASK_DIR"] == "/task"
    assert env["HIVEMIND_INPUT"] == "/input/input-1.txt"
    assert env["HIVEMIND_OUTPUT"] == "/output"  # a job cannot move it
    assert env["HIVEMIND_TASK_INDEX"] == "4"
    assert env["SEED"] == "7"
    flags = plan.cli_flags()
    assert "--read-only" in flags and "--init" in flags
    assert flags[flags.index("--network") + 1] == "none"
    assert flags[flags.index("--memory-swap") + 1] == "256m"
    assert flags[flags.index("--cpus") + 1] == "1"


def test_task_never_runs_as_root():
    uid, gid = container_user()
    assert uid != 0 and gid != 0


@pytest.mark.skipif(not hasattr(os, "getuid") or os.getuid() != 0, reason="needs root")
def test_as_root_the_mounts_are_opened_to_nobody(spec):
    spec.package_dir.chmod(0o700)  # as a temporary directory would be
    (spec.package_dir / "main.py").chmod(0o600)
    prepare_mounts(spec, 65534, 65534)
    assert spec.output_dir.stat().st_uid == 65534
    assert stat.S_IMODE(spec.package_dir.stat().st_mode) == 0o755
    assert stat.S_IMODE((spec.package_dir / "main.py").stat().st_mode) == 0o644


def test_gpu_support_needs_an_nvidia_runtime():
    plain = gpu_support_from_info({"Runtimes": {"runc": {"path": "runc"}}})
    assert not plain and plain.reason == NO_NVIDIA_RUNTIME == "no NVIDIA container runtime found"
    nvidia = gpu_support_from_info(
        {"Runtimes": {"runc": {}, "nvidia": {"path": "nvidia-container-runtime"}}}
    )
    assert nvidia and nvidia.runtime == "nvidia"


def _unreachable_client():
    return docker.DockerClient(base_url="unix:///nonexistent/docker.sock", version="1.41")


def test_gpu_detection_without_a_daemon_says_why():
    support = detect_gpu_support(_unreachable_client())
    assert not support
    assert support.reason.startswith("cannot reach the Docker daemon: ")


async def test_without_a_daemon_every_answer_is_a_clear_line(spec):
    executor = DockerExecutor(client=_unreachable_client())
    status = await executor.available()
    assert not status
    assert status.reason.startswith("cannot reach the Docker daemon: ")
    assert "\n" not in status.reason
    assert executor.runtimes() == []
    result = await executor.run(spec, asyncio.Event())
    assert result.exit_code is None
    assert result.error.startswith("cannot reach the Docker daemon: ")
    gpu_spec = TaskSpec(**{**spec.__dict__, "gpus": 1})
    result = await executor.run(gpu_spec, asyncio.Event())
    assert result.error.startswith("cannot reach the Docker daemon: ")


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"command": []}, "the job's command is empty"),
        ({"cores": 0}, "cores must be at least 1 (got 0)"),
        ({"cpu_percent": 150}, "cpu_percent must be between 1 and 100 (got 150)"),
        ({"timeout_s": 0}, "timeout must be at least 1 s (got 0)"),
        ({"disk_mb": 0}, "disk must be at least 1 MB (got 0)"),
    ],
)
async def test_bad_specs_are_refused_before_docker_is_asked(spec, change, error):
    executor = DockerExecutor(client=_unreachable_client())
    result = await executor.run(TaskSpec(**{**spec.__dict__, **change}), asyncio.Event())
    assert result.error == error
    assert not spec.output_dir.exists()  # nothing was prepared for a refused task
