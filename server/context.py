"""What every servicer and background task of one server process shares.

server/app.py builds it (`open_context`) with every service in place. Its fields are typed
with the classes that fill them; those of the packages above this module (job events, the
artifact store, the token signer, the seeder, node presence, the other replicas ...) are
imported for type checkers only, so at run time context.py imports nothing above store/
(pyproject.toml's import contracts name exactly these imports).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import TYPE_CHECKING

from server.config import ServerSettings
from server.store.db import Database
from server.store.invalidation import Invalidations
from server.store.redis_link import RedisLink

if TYPE_CHECKING:
    from server.accounts.revocation import UserStates
    from server.accounts.signing import SigningKeys
    from server.accounts.tokens import AccessTokenSigner
    from server.accounts.users import UnknownNameFailures
    from server.jobs.artifacts import ArtifactStore
    from server.jobs.events import JobEvents
    from server.nodes.batching import Batched
    from server.nodes.presence import HotPresence
    from server.nodes.registry import StoredBeat
    from server.rpc.auth import NodeCredentialCache
    from server.rpc.replicas import ReplicaMesh
    from server.torrent.seeder import Seeder


@dataclass
class ServerContext:
    settings: ServerSettings
    db: Database
    artifacts: ArtifactStore
    events: JobEvents
    token_signer: AccessTokenSigner  # access tokens, keyed by <data_dir>/token.key
    # Every other signed thing (the dashboard's cookies and CSRF tokens) and keyed hash,
    # one key per purpose derived from token.key (server/accounts/signing.py).
    signing_keys: SigningKeys
    unknown_name_failures: UnknownNameFailures  # failed logins for names without an account
    user_states: UserStates  # users' current role, ban and credential generation, briefly
    node_credentials: NodeCredentialCache  # verified node credentials, for a few seconds
    # Which unreplicated results are spot-checked: unpredictable to nodes (a test may seed it).
    spot_check_rng: random.Random
    # Where a change to credentials is announced (to this server's caches, and with Redis to
    # every replica's).
    invalidations: Invalidations
    # Heartbeats without Redis, many to a transaction (server/nodes/registry.py).
    beats: Batched[StoredBeat, tuple[list[str], set[str]]]
    # With `redis_url` (replicas): the link, node presence kept there, and the other replicas.
    redis: RedisLink | None = None
    presence: HotPresence | None = None
    replicas: ReplicaMesh | None = None
    # The only field set after construction: the BitTorrent seeder starts on the event loop
    # once the server starts, and may fail to (then every transfer goes over gRPC). None
    # until then, and when BitTorrent is off.
    seeder: Seeder | None = None
