"""SQLAlchemy Core tables. Times are unix seconds (float); amounts are integer micro-CPT."""

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
)

metadata = MetaData()

users = Table(
    "users",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("username", String(32), nullable=False),
    # Lower-cased: "Alice" and "alice" are one user.
    Column("username_key", String(32), nullable=False, unique=True),
    Column("password_hash", Text, nullable=False),
    Column("is_admin", Boolean, nullable=False, default=False),
    Column("created_at", Float, nullable=False),
    Column("failed_logins", Integer, nullable=False, default=0),
    Column("locked_until", Float, nullable=False, default=0.0),
    # Bumped by a role change, a ban or a password change: access tokens carry the generation
    # they were issued under, and older ones are refused (server/accounts/revocation.py).
    Column("credential_generation", Integer, nullable=False, default=0),
    Column("banned", Boolean, nullable=False, default=False),
    Column("ban_reason", Text, nullable=False, default=""),
    # Transfers this user addressed to names without an account, counted from the first of
    # the current hour, so usernames cannot be enumerated for free (accounts/recipients.py).
    Column("transfer_misses", Integer, nullable=False, default=0),
    Column("transfer_misses_since", Float, nullable=False, default=0.0),
)

refresh_tokens = Table(
    "refresh_tokens",
    metadata,
    Column("token_hash", String(64), primary_key=True),  # sha256 hex of the token
    Column("user_id", String(40), ForeignKey("users.id"), nullable=False, index=True),
    Column("family_id", String(40), nullable=False, index=True),
    Column("created_at", Float, nullable=False),
    Column("expires_at", Float, nullable=False),
    Column("revoked_at", Float),
)

# Accounts opened in the last hour, per client network (IPv4 /24, IPv6 /48), so every server
# on one database shares the sign-up limit (server/accounts/signup_limits.py). The network is
# kept only as a keyed hash; rows older than the hour are deleted as new accounts are opened.
signups = Table(
    "signups",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("address_hash", String(64), nullable=False),  # HMAC-SHA256 hex of the network
    Column("user_id", String(40), ForeignKey("users.id"), nullable=False),
    Column("created_at", Float, nullable=False),
    Index("ix_signups_address_created", "address_hash", "created_at"),
    Index("ix_signups_created", "created_at"),
)

# Double-entry ledger. An account's balance is the sum of its entries; `balance_ucpt`
# caches it and is checked against the entries by tests and `admin check-ledger`.
accounts = Table(
    "accounts",
    metadata,
    Column("id", String(40), primary_key=True),
    # user:<id>, starter:<id>, escrow:<job>, system:mint
    Column("name", String(80), nullable=False, unique=True),
    Column("kind", String(16), nullable=False),  # user | starter | escrow | system
    Column("user_id", String(40)),
    Column("job_id", String(40)),
    Column("balance_ucpt", BigInteger, nullable=False, default=0),
    Column("created_at", Float, nullable=False),
)

ledger_transactions = Table(
    "ledger_transactions",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("idempotency_key", String(200), nullable=False, unique=True),
    Column("reason", String(16), nullable=False),  # grant escrow payout refund transfer fee
    Column("memo", Text, nullable=False, default=""),
    Column("created_at", Float, nullable=False),
    Column("job_id", String(40)),
    Column("attempt_id", String(40)),
)

ledger_entries = Table(
    "ledger_entries",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("tx_id", String(40), ForeignKey("ledger_transactions.id"), nullable=False),
    Column("account_id", String(40), ForeignKey("accounts.id"), nullable=False),
    Column("amount_ucpt", BigInteger, nullable=False),
    Column("balance_after_ucpt", BigInteger, nullable=False),
    Index("ix_ledger_entries_account", "account_id", "id"),
    Index("ix_ledger_entries_tx", "tx_id"),
)

# One row per paid attempt, with the parts of the reward (shown in Earnings).
payouts = Table(
    "payouts",
    metadata,
    Column("attempt_id", String(40), primary_key=True),  # paying an attempt twice is impossible
    Column("tx_id", String(40), nullable=False),
    Column("job_id", String(40), nullable=False),
    Column("node_id", String(40), nullable=False),
    Column("user_id", String(40), nullable=False),
    Column("core_ms", BigInteger, nullable=False),
    Column("base_ucpt", BigInteger, nullable=False),
    Column("bonus_ucpt", BigInteger, nullable=False, default=0),
    Column("amount_ucpt", BigInteger, nullable=False),
    Column("performance_bonus_permille", Integer, nullable=False, default=0),
    Column("stability_bonus_permille", Integer, nullable=False, default=0),
    Column("priority_permille", Integer, nullable=False, default=1000),
    Column("created_at", Float, nullable=False),
    Index("ix_payouts_user_time", "user_id", "created_at"),
)

# What was taken back from a node's owner for a paid result that was then discarded because
# its node was caught (server/ledger/clawbacks.py): one row per attempt, so nothing is taken
# twice. `shortfall_ucpt` is what the owner's balance could not cover.
clawbacks = Table(
    "clawbacks",
    metadata,
    Column("attempt_id", String(40), primary_key=True),
    Column("tx_id", String(40)),  # none when nothing could be taken
    Column("job_id", String(40), nullable=False),
    Column("node_id", String(40), nullable=False),
    Column("user_id", String(40), nullable=False),
    Column("paid_ucpt", BigInteger, nullable=False),
    Column("taken_ucpt", BigInteger, nullable=False),
    Column("shortfall_ucpt", BigInteger, nullable=False),
    Column("memo", Text, nullable=False, default=""),
    Column("created_at", Float, nullable=False),
    Index("ix_clawbacks_user_time", "user_id", "created_at"),
)

nodes = Table(
    "nodes",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("owner_id", String(40), ForeignKey("users.id"), nullable=False, index=True),
    Column("name", String(120), nullable=False),
    Column("secret_hash", String(64), nullable=False),  # sha256 hex of a 256-bit random secret
    Column("hardware_json", Text, nullable=False, default="{}"),
    Column("benchmark_score", Float, nullable=False, default=0.0),
    Column("runtimes_json", Text, nullable=False, default="[]"),
    Column("executors_json", Text, nullable=False, default="[]"),
    Column("usage_json", Text, nullable=False, default="{}"),
    Column("created_at", Float, nullable=False),
    Column("last_seen", Float, nullable=False),
    Column("online", Boolean, nullable=False, default=True),
    Column("paused", Boolean, nullable=False, default=False),
    Column("banned", Boolean, nullable=False, default=False),
    Column("ban_reason", Text, nullable=False, default=""),
    Column("bt_endpoint", String(120), nullable=False, default=""),
    # The network its calls last came from, as the server saw them (server/nodes/networks.py):
    # replicas that make a quorum come from distinct networks; "" = not seen yet.
    Column("network", String(64), nullable=False, default="", server_default=""),
)

# Artifacts a node said (in heartbeats) it seeds over BitTorrent.
node_seeds = Table(
    "node_seeds",
    metadata,
    Column("node_id", String(40), primary_key=True),
    Column("digest", String(64), primary_key=True),
    Column("updated_at", Float, nullable=False),
    Index("ix_node_seeds_digest", "digest"),
)

runtimes = Table(
    "runtimes",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("image", Text, nullable=False),
    Column("image_id", Text, nullable=False, default=""),
    Column("archive_digest", String(64), nullable=False, default=""),
    Column("created_at", Float, nullable=False),
)

artifacts = Table(
    "artifacts",
    metadata,
    Column("digest", String(64), primary_key=True),  # sha256 hex
    Column("size", BigInteger, nullable=False),
    Column("kind", String(16), nullable=False),  # package input result runtime
    Column("name", Text, nullable=False, default=""),
    Column("created_at", Float, nullable=False),
    Column("torrent", LargeBinary),  # bencoded metadata, once made
)

# Who may read an artifact and whose quota it counts against (user or node ids).
artifact_owners = Table(
    "artifact_owners",
    metadata,
    Column("digest", String(64), primary_key=True),
    Column("principal_id", String(40), primary_key=True),
    Column("size", BigInteger, nullable=False),
    Column("created_at", Float, nullable=False),
    # When a node last uploaded or fetched it: only then may the node say it seeds it.
    Column("fetched_at", Float),
    Index("ix_artifact_owners_principal", "principal_id"),
)

# Bytes an upload in progress will add to its owner's quota, reserved before the first byte
# lands (server/jobs/artifacts.py): concurrent uploads cannot together pass the quota. A
# reservation ends with its upload; one left by a crash expires.
upload_reservations = Table(
    "upload_reservations",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("owner_id", String(40), nullable=False),  # the user (a node's owner) it counts for
    Column("size", BigInteger, nullable=False),
    Column("expires_at", Float, nullable=False),
    Index("ix_upload_reservations_owner", "owner_id", "expires_at"),
)

jobs = Table(
    "jobs",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("owner_id", String(40), ForeignKey("users.id"), nullable=False),
    Column("name", String(120), nullable=False),
    Column("state", String(16), nullable=False),  # pending running done failed cancelled
    Column("runtime", String(64), nullable=False),
    Column("command_json", Text, nullable=False),
    Column("package_digest", String(64), nullable=False),
    Column("cores", Integer, nullable=False),
    Column("memory_mb", Integer, nullable=False),
    Column("disk_mb", Integer, nullable=False),
    Column("gpus", Integer, nullable=False, default=0),
    Column("timeout_s", Integer, nullable=False),
    Column("max_attempts", Integer, nullable=False),
    Column("replicas", Integer, nullable=False, default=1),
    Column("priority_permille", Integer, nullable=False, default=1000),
    # argv of the command that compares two results (JSON; "" = digests must be equal)
    Column("compare_json", Text, nullable=False, default=""),
    Column("compare_timeout_s", Integer, nullable=False, default=0),
    # Rounds (server/jobs/rounds.py): 1 and no aggregate command for a job without rounds.
    Column("rounds", Integer, nullable=False, default=1),
    Column("aggregate_json", Text, nullable=False, default=""),  # argv; "" = none
    Column("min_results", Integer, nullable=False, default=0),  # per round; 0 = every task
    Column("round_deadline_s", Integer, nullable=False, default=0),  # 0 = none
    Column("round_tasks", Integer, nullable=False, default=0),  # tasks per round
    Column("current_round", Integer, nullable=False, default=0),
    Column("max_cost_ucpt", BigInteger, nullable=False),
    Column("cost_ucpt", BigInteger, nullable=False, default=0),
    Column("refunded_ucpt", BigInteger, nullable=False, default=0),
    Column("escrow_account_id", String(40), nullable=False),
    # Escrowed from the owner's starter credit: its tasks yield to paid work, its refunds go
    # back to starter credit (server/ledger/starter.py).
    Column("starter_funded", Boolean, nullable=False, default=False),
    Column("idempotency_key", String(200)),
    Column("tasks_total", Integer, nullable=False),
    Column("tasks_done", Integer, nullable=False, default=0),
    Column("tasks_failed", Integer, nullable=False, default=0),
    Column("tasks_cancelled", Integer, nullable=False, default=0),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
    Column("finished_at", Float),
    # The network it was submitted from: its work earns no trust to nodes of that network.
    Column("network", String(64), nullable=False, default="", server_default=""),
    UniqueConstraint("owner_id", "idempotency_key", name="uq_jobs_owner_idempotency"),
    Index("ix_jobs_owner_created", "owner_id", "created_at"),
    Index("ix_jobs_state", "state"),
)

tasks = Table(
    "tasks",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("job_id", String(40), ForeignKey("jobs.id"), nullable=False),
    # The task's index in its round; -1 for the round's aggregate (jobs/models.py).
    Column("idx", Integer, nullable=False),
    Column("round", Integer, nullable=False, default=0),
    Column("state", String(16), nullable=False),  # pending leased running done failed cancelled
    Column("input_digest", String(64), nullable=False, default=""),
    Column("input_name", Text, nullable=False, default=""),
    Column("input_size", BigInteger, nullable=False, default=0),
    Column("attempts", Integer, nullable=False, default=0),
    Column("error", Text, nullable=False, default=""),
    Column("result_digest", String(64), nullable=False, default=""),
    Column("result_size", BigInteger, nullable=False, default=0),
    Column("accepted_attempt_id", String(40)),
    Column("node_id", String(40)),
    Column("cost_ucpt", BigInteger, nullable=False, default=0),
    Column("log", Text, nullable=False, default=""),
    Column("updated_at", Float, nullable=False),
    UniqueConstraint("job_id", "round", "idx", name="uq_tasks_job_round_idx"),
    Index("ix_tasks_state_job", "state", "job_id", "idx"),
)

# The rounds of a job with an aggregate command (server/jobs/rounds.py), one row each from
# the moment its tasks are created: running (its tasks run), aggregating (enough were
# accepted: the aggregate task runs), done (its output is the next round's model), failed,
# cancelled.
job_rounds = Table(
    "job_rounds",
    metadata,
    Column("job_id", String(40), ForeignKey("jobs.id"), primary_key=True),
    Column("round", Integer, primary_key=True),
    Column("state", String(16), nullable=False),
    Column("model_digest", String(64), nullable=False, default=""),  # what its tasks start from
    Column("tasks_accepted", Integer, nullable=False, default=0),  # outputs aggregated
    Column("result_digest", String(64), nullable=False, default=""),  # the next model
    Column("result_size", BigInteger, nullable=False, default=0),
    Column("error", Text, nullable=False, default=""),
    Column("started_at", Float, nullable=False),
    Column("closed_at", Float),  # its aggregate created
    Column("ended_at", Float),
    Index("ix_job_rounds_state", "state", "started_at"),
)

attempts = Table(
    "attempts",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("task_id", String(40), ForeignKey("tasks.id"), nullable=False),
    Column("job_id", String(40), nullable=False, index=True),
    Column("node_id", String(40), nullable=False, index=True),
    # leased running done failed expired cancelled
    Column("state", String(16), nullable=False),
    Column("leased_at", Float, nullable=False),
    Column("lease_deadline", Float, nullable=False),
    Column("started_at", Float),
    Column("finished_at", Float),
    Column("exit_code", Integer),
    Column("error", Text, nullable=False, default=""),
    Column("result_digest", String(64), nullable=False, default=""),
    Column("result_size", BigInteger, nullable=False, default=0),
    Column("log", Text, nullable=False, default=""),
    Column("cpu_seconds", Float, nullable=False, default=0.0),
    Column("wall_seconds", Float, nullable=False, default=0.0),
    Column("peak_memory_mb", BigInteger, nullable=False, default=0),
    Column("cancel_requested", Boolean, nullable=False, default=False),
    # Set when the attempt compares two results of its task instead of running it.
    Column("comparison_id", String(40)),
    Index("ix_attempts_state_deadline", "state", "lease_deadline"),
    # A task's attempts in some states (migration 0011): one index for both.
    Index("ix_attempts_task_state", "task_id", "state"),
)


# Verification and trust (docs/SECURITY.md).

# What each node's results and leases have shown. Consecutive valid results earn trust (less
# spot checking, the performance bonus); a wrong result resets it.
node_trust = Table(
    "node_trust",
    metadata,
    Column("node_id", String(40), primary_key=True),
    Column("consecutive_valid", Integer, nullable=False, default=0),
    Column("valid_results", Integer, nullable=False, default=0),
    Column("invalid_results", Integer, nullable=False, default=0),  # disagreed with a quorum
    Column("errors", Integer, nullable=False, default=0),
    Column("expired_leases", Integer, nullable=False, default=0),
    Column("spot_checks_passed", Integer, nullable=False, default=0),
    Column("spot_checks_failed", Integer, nullable=False, default=0),
    Column("last_invalid_at", Float, nullable=False, default=0.0),
    Column("last_expired_at", Float, nullable=False, default=0.0),
    Column("last_offline_at", Float, nullable=False, default=0.0),
    Column("updated_at", Float, nullable=False),
    # The lease quota (BOINC's daily host quota): leases a day, halved by an error, an expired
    # lease or a wrong result, doubled by an accepted one; 0 = never changed (the initial one).
    Column("lease_quota", Integer, nullable=False, default=0, server_default="0"),
    # What the node did in its current day (the day began at `day_started_at`).
    Column("day_started_at", Float, nullable=False, default=0.0, server_default="0"),
    Column("leases_today", Integer, nullable=False, default=0, server_default="0"),
    Column("results_today", Integer, nullable=False, default=0, server_default="0"),
    Column("errors_today", Integer, nullable=False, default=0, server_default="0"),
    # Errors on tasks that a node of another owner then completed: the node's fault.
    Column("refuted_today", Integer, nullable=False, default=0, server_default="0"),
    Column("earned_today_ucpt", BigInteger, nullable=False, default=0, server_default="0"),
    # An error rate far above its peers' keeps the node from leasing until then, and why.
    Column("quarantined_until", Float, nullable=False, default=0.0, server_default="0"),
    Column("quarantine_reason", Text, nullable=False, default="", server_default=""),
)

# A task that needs more than one result: a job with replicas > 1, or a spot check of an
# unreplicated task. Tasks without a row take the first result (replicas = 1).
task_replicas = Table(
    "task_replicas",
    metadata,
    Column("task_id", String(40), primary_key=True),
    Column("job_id", String(40), nullable=False, index=True),
    Column("quorum", Integer, nullable=False),  # agreeing results (distinct owners) needed
    Column("open_slots", Integer, nullable=False),  # leases still to hand out
    Column("max_results", Integer, nullable=False),  # then the task fails without a quorum
    Column("max_paid", Integer, nullable=False),  # agreeing results paid at most
    Column("paid", Integer, nullable=False, default=0),
    Column("spot_check", Boolean, nullable=False, default=False),
    Column("subject_attempt_id", String(40)),  # the result a spot check checks
    Column("canonical_digest", String(64), nullable=False, default=""),  # once accepted
    Column("updated_at", Float, nullable=False),
    # The open slots go to established nodes only: their results must settle the task.
    Column("needs_established", Boolean, nullable=False, default=False, server_default=false()),
)

# Every result a node delivered and what validation made of it:
# pending (waiting for a quorum), valid (agreed; paid), unverified (taken without a second
# result; paid), invalid (disagreed with the quorum; not paid), inconclusive (no quorum was
# reached; not paid), discarded (its node was banned or caught before it was verified).
result_checks = Table(
    "result_checks",
    metadata,
    Column("attempt_id", String(40), primary_key=True),
    Column("task_id", String(40), nullable=False, index=True),
    Column("job_id", String(40), nullable=False),
    Column("node_id", String(40), nullable=False),
    Column("owner_id", String(40), nullable=False),
    Column("result_digest", String(64), nullable=False, default=""),
    Column("status", String(16), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("decided_at", Float),
    # The network the result came from (the node's, when it reported it).
    Column("network", String(64), nullable=False, default="", server_default=""),
    Index("ix_result_checks_node_status", "node_id", "status", "decided_at"),
)

# Two results of a task whose digests differ, for a job that names a compare command: a
# node of a third owner runs the command on both and says whether they are equivalent.
result_comparisons = Table(
    "result_comparisons",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("task_id", String(40), nullable=False, index=True),
    Column("job_id", String(40), nullable=False),
    Column("digest_a", String(64), nullable=False),  # the earlier result (a group's first)
    Column("digest_b", String(64), nullable=False),
    Column("state", String(16), nullable=False),  # open leased decided dropped failed
    Column("verdict", String(16), nullable=False, default=""),  # same | different
    Column("attempt_id", String(40)),  # the attempt comparing (or that compared) them
    Column("created_at", Float, nullable=False),
    Column("decided_at", Float),
    UniqueConstraint("task_id", "digest_a", "digest_b", name="uq_result_comparisons_pair"),
    Index("ix_result_comparisons_state", "state", "created_at"),
)
