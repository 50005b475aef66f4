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
DEFAULT_HTTP_LISTEN = "127.0.0.1:50080"  # where http_listen = "auto" serves the dashboard


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
    # The web dashboard, /metrics, /healthz and /readyz (server/web), in the same process:
    # "HOST:PORT" listens there (TLS with the certificate above; plaintext only on loopback
    # unless `insecure`), "off" serves none, and "auto" listens on DEFAULT_HTTP_LISTEN, or
    # warns and serves none when another program holds that port.
    http_listen: str = "auto"
    # Proxies (addresses or networks, comma-separated) whose calls name the client in an
    # x-forwarded-for header (HAProxy, packaging/server/haproxy.cfg): the server then sees the
    # client's address, not the proxy's (networks, budgets, sign-up limits; server/rpc/
    # forwarded.py). Empty = trust none: behind a proxy every call seems to come from it.
    trusted_proxies: str = ""
    web_session_ttl_s: int = 8 * 3600  # a dashboard sign-in lasts this long
    metrics_token: str = ""  # when set, /metrics needs `Authorization: Bearer <token>`
    web_sample_interval_s: float = 30.0  # the network page's charts: a point this often
    # The network's state (network page, /metrics gauges) is read at most this often.
    web_state_cache_s: float = 5.0
    # Ledger and rewards.
    # Starter credit for each new account (server/ledger/starter.py): enough to try the network
    # with a small job of one's own (examples/pi's 8 one-core tasks of at most 60 s hold 2.6
    # CPT at worst), never transferable. 0 = none: a public network should say 0.
    signup_grant_ucpt: int = 3 * UCPT_PER_CPT
    # New accounts per client network (network_prefix_v4/v6 below) and hour, all servers on
    # one database together; 0 = no limit (server/accounts/signup_limits.py).
    registrations_per_network_hour: int = 10
    # Transfers one user may address to names without an account per hour; 0 = no limit.
    transfer_unknown_names_per_hour: int = 10
    base_ucpt_per_core_hour: int = 10 * UCPT_PER_CPT
    # What an hour of one GPU earns on top of the cores' time (docs/REWARDS.md).
    base_ucpt_per_gpu_hour: int = 100 * UCPT_PER_CPT
    # Per-account request budgets at the RPC edge (server/rpc/budgets.py): a token bucket of
    # calls per account (0 = off), how long a call may wait for its token before it is
    # refused, and calls in progress at once per account (streams included).
    rpc_rate_per_s: float = 100.0
    rpc_burst: int = 200
    rpc_max_wait_s: float = 2.0
    rpc_max_in_flight: int = 64
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
    # Creating tasks costs the server whether they run or not (docs/SECURITY.md): beyond the
    # tasks a user created in the last hour for free, each new task costs a fee that is not
    # refunded, even when the job is cancelled.
    free_tasks_per_hour: int = 10_000
    task_fee_ucpt: int = 500
    # A big job's tasks are created this many per transaction, so others' calls run between.
    submit_batch_tasks: int = 500
    # Verification and trust (docs/SECURITY.md): disagreeing results issue more replicas, up
    # to `replicas + max_extra_replicas` results per task, before the task fails.
    max_extra_replicas: int = 2
    # A job's compare command (fuzzy outputs) runs at most this long unless the job says.
    default_compare_timeout_s: int = 60
    # Unreplicated work of a node that is not established, or has fewer consecutive valid
    # results, is always spot-checked; above, with probability 1/consecutive_valid (never
    # below the floor).
    trust_threshold: int = 3
    spot_check_min_probability: float = 0.05
    # An open network (docs/SECURITY.md). Calls from one IPv4 /24 or one IPv6 /48 come from
    # one network (common/network.py): sign-ups are counted per network, and replicas that
    # make a quorum come from distinct owners and distinct networks. `distinct_networks` off
    # only for a private network whose machines all share one address (a lab behind one NAT,
    # `hivemind demo` on one machine); it does not lift the sign-up limit.
    network_prefix_v4: int = 24
    network_prefix_v6: int = 48
    distinct_networks: bool = True
    # A node is established once this old with this many results that agreed with
    # independent nodes on work someone else paid for. Until then its unreplicated work is
    # always checked, a quorum needs an established node besides it, and it earns at most
    # new_node_daily_earnings_ucpt x (1 + its age in whole days) a day.
    established_min_age_s: int = 3 * 24 * 3600
    established_min_valid: int = 20
    new_node_daily_earnings_ucpt: int = 100 * UCPT_PER_CPT
    # Leases a node may take a day (BOINC's daily host quota): an error, an expired lease or
    # a wrong result halves it (from at most the initial one), an accepted result doubles it.
    lease_quota_initial: int = 50
    lease_quota_max: int = 100_000
    # A node with at least quarantine_min_errors errors in its day that nodes of other owners
    # then did right, at a rate of at least quarantine_min_rate and quarantine_factor times
    # its peers', leases nothing for quarantine_s; its owner is told why.
    quarantine_min_errors: int = 10
    quarantine_min_rate: float = 0.5
    quarantine_factor: float = 4.0
    quarantine_s: int = 24 * 3600
    # A task or check that waits for a node no online node can be (another owner, another
    # network, an established node, one that has not failed it) is decided this long after
    # it began to wait, with what is there.
    wait_for_nodes_s: int = 600
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
    # Housekeeping this often (0 = never; stale partial uploads still go at start): stored
    # files no row names, partial uploads and expired reservations are removed, the
    # never-run tasks of cancelled jobs deleted, submissions cut short by a crash cancelled.
    housekeeping_interval_s: float = 600.0
    # The image id the default runtime (python-3.11) is pinned to; empty = the id its tag
    # has in this machine's Docker at first start (server/runtimes/approved.py).
    default_runtime_image_id: str = ""
    # BitTorrent.
    bittorrent: bool = True
    bt_listen_port: int = 0
    # The host clients reach this server's BitTorrent port at (a replica's own, not a load
    # balancer's); empty = the listen host, or for a wildcard the host clients dialled.
    bt_public_host: str = ""
    # Scale-out (docs/ADMIN.md, "Scale-out"): Redis holds what is hot and ephemeral (node
    # presence and heartbeats, job events and wake-ups across replicas, invalidations of
    # cached credentials). Empty = no Redis: one server keeps it in its process and database.
    redis_url: str = ""
    redis_namespace: str = "hivemind"  # prefix of every key and channel in that Redis
    # Where the other replicas reach this one's gRPC port to fetch artifacts (host:port);
    # empty = the listen address, a wildcard replaced by this machine's host name.
    replica_address: str = ""
    replica_ca_file: str = ""  # CA of the replicas' TLS certificates (empty = the system's)
    # Longest a LeaseTasks call waits for work when an idle worker asks it to (long-poll).
    lease_wait_max_s: float = 20.0
    bt_max_seeded_torrents: int = 1000  # in the seeder's session at once (least used leave)

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
