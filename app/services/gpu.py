"""Can tasks get a GPU on this machine? Only through an NVIDIA container runtime that the
Docker daemon knows; otherwise the GPU switch stays off and the UI shows why. Which GPUs there
are comes from NVML (NVIDIA's driver library, through `nvidia-ml-py`): none without a driver.
How many a worker offers is `offered_gpus`: the share switch, the contributor's count and the
runtime decide.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)

NO_NVIDIA_RUNTIME = "no NVIDIA container runtime found"
NO_NVIDIA_GPU = "no NVIDIA GPU found"


@dataclass(frozen=True)
class GpuSupport:
    """`available` is True when containers may be given GPUs; else `reason` says why not."""

    available: bool
    reason: str = ""
    runtime: str = ""  # the NVIDIA runtime's name in `docker info`

    def __bool__(self) -> bool:
        return self.available


def gpu_support_from_info(info: dict[str, Any]) -> GpuSupport:
    """Reads `docker info` (the API's dict): the NVIDIA runtime is registered under a name
    containing "nvidia" (the toolkit's default is "nvidia")."""
    runtimes = info.get("Runtimes") or {}
    names = sorted(runtimes) if isinstance(runtimes, dict) else []
    default = str(info.get("DefaultRuntime") or "")
    if default and default not in names:
        names.append(default)
    for name in names:
        if "nvidia" in name.lower():
            return GpuSupport(True, "", name)
    return GpuSupport(False, NO_NVIDIA_RUNTIME)


def detect_gpu_support(client: Any = None) -> GpuSupport:
    """Asks the Docker daemon (blocking: call it from a thread when on the event loop)."""
    try:
        if client is None:
            import docker

            client = docker.from_env()
        info = client.info()
    except Exception as exc:
        text = " ".join(str(exc).split()) or type(exc).__name__
        return GpuSupport(False, f"cannot reach the Docker daemon: {text[:300]}")
    return gpu_support_from_info(info)


@dataclass(frozen=True)
class GpuDevice:
    """One NVIDIA GPU as NVML sees it; `uuid` is what Docker's device request names."""

    index: int
    uuid: str
    name: str
    memory_mb: int


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def detect_gpus(nvml: Any = None) -> list[GpuDevice]:
    """The machine's NVIDIA GPUs, or [] when there is no NVML (no driver, another vendor).
    `nvml` is the `pynvml` module (tests pass a fake one). Blocking: call it from a thread."""
    if nvml is None:
        try:
            import pynvml as nvml
        except ImportError:
            return []
    try:
        nvml.nvmlInit()
    except Exception as exc:  # NVMLError: no driver, or libnvidia-ml missing
        log.debug("no NVML here: %s", exc)
        return []
    try:
        devices = []
        for index in range(nvml.nvmlDeviceGetCount()):
            handle = nvml.nvmlDeviceGetHandleByIndex(index)
            memory = nvml.nvmlDeviceGetMemoryInfo(handle).total // (1024 * 1024)
            uuid, name = nvml.nvmlDeviceGetUUID(handle), nvml.nvmlDeviceGetName(handle)
            devices.append(GpuDevice(index, _text(uuid), _text(name), int(memory)))
        return devices
    except Exception as exc:
        log.warning("NVML could not list the GPUs: %s", exc)
        return []
    finally:
        with contextlib.suppress(Exception):
            nvml.nvmlShutdown()


def offered_gpus(detected: int, share: bool, allowed: int, support: GpuSupport | None) -> int:
    """GPUs this worker lends: none unless the contributor shares the graphics card and
    containers can get GPUs here; then `allowed` of them (0 = every one detected)."""
    if not share or detected <= 0 or support is None or not support.available:
        return 0
    return detected if allowed <= 0 else min(allowed, detected)
