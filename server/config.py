"""Server settings: one dataclass, loaded from defaults < `server.toml` in the data dir
< `HIVEMIND_SERVER_*` environment variables < command-line flags."""

from __future__ import annotations

import dataclasses
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

UCPT_PER_CPT = 1_000_000
# Settings that were renamed: an old name in server.toml or the environment still works.
RENAMED = {"registrations_per_address_hour": "registrations_per_network_hour"}


@dataclass
class ServerSettings:
    data_dir: Path = field(default_factory=lambda: Path("hivemind-data"))
    listen: str = "127.0.0.1:50051"
    database_url: str = ""  # empty = SQLite in data_dir
    # TLS: PEM files; both empty = plaintext, which the server accepts only on a loopback
    # address unless `insecure` is set (e.g. inside a container behind a TLS proxy).
    tls_cert_file: str = ""
    tls_key_file: str = ""
    insecure: bool = False
    # Ledger and rewards.
    # Starter credit for each new account (server/ledger/starter.py): enough to try the network
    # with a small job of one's own (examples/pi's 8 one-core tasks of at most 60 s hold 2.6
    # CPT at worst), never transferable. 0 = none: a public network should say 0.
    signup_grant_ucpt: int = 3 * UCPT_PER_CPT
    # New accounts per client network (an IPv4 /24, an IPv6 /48) and hour, all servers on one
    # database together; 0 = no limit (server/accounts/signup_limits.py).
    registrations_per_network_hour: int = 10
    signup_ipv4_prefix: int = 24
    signup_ipv6_prefix: int = 48
    # Transfers one user may address to names without an account per hour; 0 = no limit.
    transfer_unknown_names_per_hour: int = 10
    base_ucpt_per_core_hour: int = 10 * UCPT_PER_CPT
    # Tokens.
    access_token_ttl_s: int = 15 * 60
    refresh_token_ttl_s: int = 30 * 24 * 3600
    # How long a server trusts what it read of a user's role, ban and credential generation:
    # a change made on another replica (or by the admin CLI) is seen within this; one made
    # through this server, and every admin call, at once (server/accounts/revocation.py).
    user_state_cache_s: float = 5.0
    # Scheduling.
    lease_ttl_s: int = 60  # a lease not renewed by heartbeat within this expires
    heartbeat_interval_s: int = 10
    node_offline_after_s: int = 45
    sweep_interval_s: float = 1.0
    default_max_attempts: int = 3
    max_tasks_per_job: int = 100_000
    max_active_jobs_per_user: int = 20  # pending or running; more -> RESOURCE_EXHAUSTED
    # Verification and trust (docs/SECURITY.md): disagreeing results issue more replicas, up
    # to `replicas + max_extra_replicas` results per task, before the task fails.
    max_extra_replicas: int = 2
    # A job's compare command (fuzzy outputs) runs at most this long unless the job says.
    default_compare_timeout_s: int = 60
    # Unreplicated work of a node with fewer consecutive valid results is always spot-checked;
    # above, with probability 1/consecutive_valid (never below the floor).
    trust_threshold: int = 3
    spot_check_min_probability: float = 0.0
    rerun_window_s: int = 24 * 3600  # a caught node's unverified results this recent re-run
    probation_max_leases: int = 2  # live attempts of a node whose last checked result was wrong
    # Rewards (docs/REWARDS.md).
    reference_benchmark_score: float = 1000.0
    stability_window_s: int = 6 * 3600
    # Artifacts.
    chunk_size: int = 1024 * 1024
    max_artifact_bytes: int = 2 * 1024**3
    user_quota_bytes: int = 10 * 1024**3
    max_package_bytes: int = 512 * 1024**2  # unpacked
    max_package_entries: int = 10_000
    max_package_ratio: int = 100  # unpacked / packed
    max_log_bytes: int = 64 * 1024
    # BitTorrent.
    bittorrent: bool = True
    bt_listen_port: int = 0

    @property
    def artifacts_dir(self) -> Path:
        return Path(self.data_dir) / "artifacts"

    @classmethod
    def load(cls, data_dir: Path | str | None = None, **overrides: Any) -> ServerSettings:
        settings = cls()
        if data_dir is not None:
            settings.data_dir = Path(data_dir)
        config_file = Path(settings.data_dir) / "server.toml"
        values: dict[str, Any] = {}
        if config_file.exists():
            values.update(tomllib.loads(config_file.read_text()).get("server", {}))
        names = [f.name for f in dataclasses.fields(cls)] + list(RENAMED)
        for name in names:
            env = os.environ.get(f"HIVEMIND_SERVER_{name.upper()}")
            if env is not None:
                values[name] = env
        values.update({k: v for k, v in overrides.items() if v is not None})
        for old, new in RENAMED.items():
            if old in values:
                values.setdefault(new, values.pop(old))
        for f in dataclasses.fields(cls):
            if f.name in values:
                setattr(settings, f.name, _coerce(getattr(settings, f.name), values[f.name]))
        return settings


def _coerce(current: Any, value: Any) -> Any:
    if isinstance(current, bool):
        if isinstance(value, str):
            return value.strip().lower() in {"1", "true", "yes", "on"}
        return bool(value)
    if isinstance(current, int):
        return int(value)
    if isinstance(current, float):
        return float(value)
    if isinstance(current, Path):
        return Path(value)
    return value
