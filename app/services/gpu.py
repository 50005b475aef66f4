"""Can tasks get a GPU on this machine? Only through an NVIDIA container runtime that the
Docker daemon knows; otherwise the GPU switch stays off and the UI shows why.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

NO_NVIDIA_RUNTIME = "no NVIDIA container runtime found"


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
