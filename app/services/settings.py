"""Client settings: where identity and settings live, which server, and how much of this
machine the contributor shares. One home: `$HIVEMIND_HOME/settings.json`.

`SettingsStore` applies changes live: the worker and the UI subscribe and see every change
without a restart; every change is persisted at once.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_SERVER = "127.0.0.1:50051"


def home_key(home: Path) -> str:
    """A short name for one HiveMind home that stays the same across runs: the keyring
    entries and the task containers of two homes on one machine never mix."""
    return hashlib.sha256(str(Path(home).resolve()).encode()).hexdigest()[:12]


def default_home() -> Path:
    """$HIVEMIND_HOME, else the user's config dir for this OS."""
    env = os.environ.get("HIVEMIND_HOME")
    if env:
        return Path(env).expanduser()
    if sys.platform == "win32":
        base = Path(os.environ.get("APPDATA", Path.home() / "AppData" / "Roaming"))
        return base / "HiveMind"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support" / "HiveMind"
    base = Path(os.environ.get("XDG_CONFIG_HOME", Path.home() / ".config"))
    return base / "hivemind"


@dataclass
class ScheduleWindow:
    """Sharing allowed on `days` (0 = Monday) between `start` and `end` ("HH:MM", local)."""

    days: list[int] = field(default_factory=lambda: list(range(7)))
    start: str = "00:00"
    end: str = "24:00"


@dataclass
class ContributorSettings:
    """What the contributor lends. 0 for cores/memory/disk means "the policy default"."""

    sharing: bool = False
    executor: str = "docker"  # docker | process (process must be chosen explicitly)
    cores: int = 0
    cpu_percent: int = 100
    memory_mb: int = 0
    disk_mb: int = 0
    gpu: bool = False
    upload_kbps: int = 0  # 0 = unlimited
    download_kbps: int = 0
    idle_minutes: int = 0  # 0 = run even while the user is active
    pause_on_battery: bool = True
    schedule_enabled: bool = False
    schedule: list[ScheduleWindow] = field(default_factory=lambda: [ScheduleWindow()])
    cache_dir: str = ""  # empty = <home>/cache
    cache_max_mb: int = 4096
    # The running worker replaces its node secret once it is this many days old, so a
    # secret copied off this machine stops working by itself. 0 = never.
    node_secret_max_age_days: int = 30


@dataclass
class ClientSettings:
    server: str = DEFAULT_SERVER
    tls: bool = False
    ca_file: str = ""
    insecure: bool = False  # allow plaintext to a non-loopback server
    language: str = "en"
    bittorrent: bool = True
    # The desktop app's first-run setup was finished (a cancelled one comes back next start).
    # A settings file from before this field counts as set up.
    setup_done: bool = True
    contributor: ContributorSettings = field(default_factory=ContributorSettings)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ClientSettings:
        contributor = dict(data.get("contributor", {}))
        windows = [
            ScheduleWindow(**_known(ScheduleWindow, w)) for w in contributor.pop("schedule", [])
        ]
        contrib = ContributorSettings(**_known(ContributorSettings, contributor))
        if windows:
            contrib.schedule = windows
        top = {k: v for k, v in _known(cls, data).items() if k != "contributor"}
        return cls(**top, contributor=contrib)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _known(kind: type, data: dict[str, Any]) -> dict[str, Any]:
    names = {f.name for f in dataclasses.fields(kind)}
    return {k: v for k, v in data.items() if k in names}


class SettingsStore:
    """Loads, saves and broadcasts `ClientSettings` for one `$HIVEMIND_HOME`."""

    def __init__(self, home: Path | None = None) -> None:
        self.home = Path(home) if home else default_home()
        self.path = self.home / "settings.json"
        self._listeners: list[Callable[[ClientSettings], None]] = []
        self.settings = self._load()

    def _load(self) -> ClientSettings:
        if self.path.exists():
            try:
                return ClientSettings.from_dict(json.loads(self.path.read_text()))
            except (ValueError, TypeError) as exc:
                raise ValueError(f"cannot read {self.path}: {exc}") from exc
        return ClientSettings(setup_done=False)

    @property
    def cache_dir(self) -> Path:
        configured = self.settings.contributor.cache_dir
        return Path(configured).expanduser() if configured else self.home / "cache"

    def save(self) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.settings.to_dict(), indent=2))
        os.replace(tmp, self.path)

    def update(self, **changes: Any) -> ClientSettings:
        """Changes top-level fields, persists, and tells every subscriber."""
        self.settings = dataclasses.replace(self.settings, **changes)
        self._changed()
        return self.settings

    def update_contributor(self, **changes: Any) -> ContributorSettings:
        """Changes contributor fields (validated), persists, and tells every subscriber."""
        contrib = dataclasses.replace(self.settings.contributor, **changes)
        _validate_contributor(contrib)
        self.settings = dataclasses.replace(self.settings, contributor=contrib)
        self._changed()
        return contrib

    def subscribe(self, listener: Callable[[ClientSettings], None]) -> Callable[[], None]:
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def _changed(self) -> None:
        self.save()
        for listener in list(self._listeners):
            listener(self.settings)


def _validate_contributor(c: ContributorSettings) -> None:
    if c.executor not in ("docker", "process"):
        raise ValueError(f"unknown executor {c.executor!r}: choose docker or process")
    age = c.node_secret_max_age_days
    if isinstance(age, bool) or not isinstance(age, int):
        raise ValueError("node_secret_max_age_days must be a whole number of days (0 = never)")
    for name in (
        "cores",
        "memory_mb",
        "disk_mb",
        "upload_kbps",
        "download_kbps",
        "idle_minutes",
        "node_secret_max_age_days",
    ):
        if getattr(c, name) < 0:
            raise ValueError(f"{name} must not be negative")
    if not 1 <= c.cpu_percent <= 100:
        raise ValueError("cpu_percent must be between 1 and 100")
