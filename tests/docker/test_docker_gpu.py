"""A GPU task's container as the real Docker daemon records it: Docker's device request for
the GPUs the worker chose (no GPU here, so the container is created and never started)."""

from __future__ import annotations

import docker

from app.services.executors.docker.attempt import create_container
from app.services.executors.docker.config import build_plan, prepare_mounts


def created_requests(image: str, instance: str, spec) -> list[dict]:
    plan = build_plan(spec, image, instance=instance, user=(65534, 65534))
    prepare_mounts(spec, 65534, 65534)
    api = docker.APIClient()
    container_id = create_container(api, plan)
    try:
        return api.inspect_container(container_id)["HostConfig"]["DeviceRequests"] or []
    finally:
        api.remove_container(container_id, force=True)
        api.close()


def test_gpu_tasks_ask_docker_for_the_chosen_gpus(runtime_image, instance, make_spec):
    chosen = make_spec("pass", gpus=2, gpu_devices=("GPU-fake-0000", "GPU-fake-0001"))
    assert created_requests(runtime_image, instance, chosen) == [
        {
            "Driver": "",
            "Count": 0,
            "DeviceIDs": ["GPU-fake-0000", "GPU-fake-0001"],
            "Capabilities": [["gpu"]],
            "Options": {},
        }
    ]
    # Without chosen devices (a worker that could not pick them), any one GPU.
    [request] = created_requests(runtime_image, instance, make_spec("pass", gpus=1))
    assert (request["Count"], request["DeviceIDs"], request["Capabilities"]) == (1, [], [["gpu"]])
    assert created_requests(runtime_image, instance, make_spec("pass")) == []
