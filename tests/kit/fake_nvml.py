"""A fake NVML for machines without an NVIDIA GPU (every test machine): an object with the
few `pynvml` functions app.services.gpu.detect_gpus calls, answering as a driver with the
given GPUs would, or failing nvmlInit as a machine without a driver does."""

from __future__ import annotations

from dataclasses import dataclass


class FakeNVMLError(Exception):
    """What pynvml.NVMLError stands for here."""


@dataclass
class FakeMemory:
    total: int  # bytes


class FakeNvml:
    """`gpus`: (name, memory in MB) per GPU; `driver=False`: nvmlInit fails."""

    def __init__(self, gpus: list[tuple[str, int]], driver: bool = True) -> None:
        self.gpus = gpus
        self.driver = driver
        self.open = False  # between nvmlInit and nvmlShutdown

    def nvmlInit(self) -> None:
        if not self.driver:
            raise FakeNVMLError("NVML Shared Library Not Found")
        self.open = True

    def nvmlShutdown(self) -> None:
        self.open = False

    def nvmlDeviceGetCount(self) -> int:
        assert self.open
        return len(self.gpus)

    def nvmlDeviceGetHandleByIndex(self, index: int) -> int:
        assert self.open and 0 <= index < len(self.gpus)
        return index

    def nvmlDeviceGetUUID(self, handle: int) -> str:
        return f"GPU-fake-{handle:04d}"

    def nvmlDeviceGetName(self, handle: int) -> bytes:
        return self.gpus[handle][0].encode()  # older pynvml releases return bytes

    def nvmlDeviceGetMemoryInfo(self, handle: int) -> FakeMemory:
        return FakeMemory(self.gpus[handle][1] * 1024 * 1024)
