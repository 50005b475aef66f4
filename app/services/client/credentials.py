"""Where this machine keeps who it is: the user's refresh token and the node credential.

Secrets go to the system keyring (Keychain, Windows Credential Manager, Secret Service /
KWallet) under a service name that includes the server and a hash of `$HIVEMIND_HOME`, so two
homes on one machine are two identities. When no usable keyring exists (a headless box, a
container, CI) they go to a 0600 JSON file in the home instead, and we say so once on stderr.
`HIVEMIND_KEYRING=file` forces the file (tests use it); `HIVEMIND_KEYRING=system` forbids it.

Every method here blocks (keyring backends talk D-Bus or call the OS): async callers run them
with `asyncio.to_thread`.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from app.services.settings import home_key

log = logging.getLogger(__name__)

CREDENTIALS_FILE = "credentials.json"
REFRESH_LOCK_FILE = ".refresh.lock"
_USER_KEY = "user"
_NODE_KEY = "node"

_warned_files: set[Path] = set()
_warn_lock = threading.Lock()


@dataclass
class UserCredential:
    """A logged-in user on one server. The access token is cached here too so several
    processes sharing a home (worker, CLI, tray) reuse one instead of racing to refresh."""

    username: str
    refresh_token: str
    access_token: str = ""
    access_expires_at: int = 0  # unix seconds


@dataclass
class NodeCredential:
    """This machine as a worker node of one server: authenticates as "Node <id>.<secret>".
    `saved_at` (unix seconds) is when this secret was stored: the worker replaces secrets
    older than the contributor's `node_secret_max_age_days`."""

    node_id: str
    secret: str
    saved_at: int = 0


class CredentialError(Exception):
    """The credential storage itself failed (unreadable file, broken keyring)."""


class _FileBackend:
    """A JSON document {service: {key: value}} in a 0600 file."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def _read(self) -> dict[str, dict[str, str]]:
        try:
            return json.loads(self.path.read_text())
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            raise CredentialError(f"cannot read credentials file {self.path}: {exc}") from exc

    def get(self, service: str, key: str) -> str | None:
        return self._read().get(service, {}).get(key)

    def set(self, service: str, key: str, value: str) -> None:
        data = self._read()
        data.setdefault(service, {})[key] = value
        self._write(data)

    def delete(self, service: str, key: str) -> None:
        data = self._read()
        if key in data.get(service, {}):
            del data[service][key]
            if not data[service]:
                del data[service]
            self._write(data)

    def _write(self, data: dict[str, Any]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        # Created 0600 from the start: the secret is never readable by others, not even briefly.
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump(data, handle, indent=2)
        os.replace(tmp, self.path)
        with contextlib.suppress(OSError):
            os.chmod(self.path, 0o600)


class _KeyringBackend:
    def __init__(self, keyring_module: Any) -> None:
        self.keyring = keyring_module

    def get(self, service: str, key: str) -> str | None:
        return self.keyring.get_password(service, key)

    def set(self, service: str, key: str, value: str) -> None:
        self.keyring.set_password(service, key, value)

    def delete(self, service: str, key: str) -> None:
        # Nothing stored is already the state we want.
        with contextlib.suppress(self.keyring.errors.PasswordDeleteError):
            self.keyring.delete_password(service, key)


def _usable_system_keyring() -> Any | None:
    """The `keyring` module when a real backend is available, else None."""
    try:
        import keyring
        from keyring.backends import chainer, fail
    except Exception:  # keyring missing or broken at import: treat as absent
        return None
    try:
        backend = keyring.get_keyring()
    except Exception:
        return None
    if isinstance(backend, fail.Keyring):
        return None
    if isinstance(backend, chainer.ChainerBackend) and not backend.backends:
        return None
    if getattr(backend, "priority", 1) <= 0:
        return None  # the null backend and friends: they silently store nothing
    return keyring


class CredentialStore:
    """The credentials of one `$HIVEMIND_HOME`, per server address."""

    def __init__(self, home: Path, backend: str | None = None) -> None:
        self.home = Path(home)
        self.file_path = self.home / CREDENTIALS_FILE
        self._home_hash = home_key(self.home)
        choice = (backend or os.environ.get("HIVEMIND_KEYRING", "auto")).strip().lower()
        if choice not in ("auto", "file", "system"):
            raise CredentialError(f"HIVEMIND_KEYRING must be auto, file or system, not {choice!r}")
        self._choice = choice
        self._backend: _FileBackend | _KeyringBackend | None = None

    @property
    def uses_file(self) -> bool:
        return isinstance(self._get_backend(), _FileBackend)

    def service_name(self, server: str) -> str:
        return f"hivemind:{server}:{self._home_hash}"

    # -- user -------------------------------------------------------------------------------

    def load_user(self, server: str) -> UserCredential | None:
        data = self._get_json(server, _USER_KEY)
        if not data:
            return None
        try:
            return UserCredential(**data)
        except TypeError:
            return None  # written by an incompatible version: as if logged out

    def save_user(self, server: str, credential: UserCredential) -> None:
        self._set_json(server, _USER_KEY, asdict(credential))

    def clear_user(self, server: str) -> None:
        self._call("delete", self.service_name(server), _USER_KEY)

    # -- node -------------------------------------------------------------------------------

    def load_node(self, server: str) -> NodeCredential | None:
        """The stored node credential. An entry stored before dates were recorded is dated
        now, and the date is written back, so its age counts from the first time it is
        seen here rather than never growing."""
        data = self._get_json(server, _NODE_KEY)
        if not data:
            return None
        known = {f.name for f in fields(NodeCredential)}
        try:
            credential = NodeCredential(**{k: v for k, v in data.items() if k in known})
        except TypeError:
            return None
        if not isinstance(credential.node_id, str) or not isinstance(credential.secret, str):
            return None
        saved_at = credential.saved_at
        if isinstance(saved_at, bool) or not isinstance(saved_at, int | float) or saved_at <= 0:
            credential.saved_at = int(time.time())
            self._set_json(server, _NODE_KEY, asdict(credential))
        else:
            credential.saved_at = int(saved_at)
        return credential

    def save_node(self, server: str, node_id: str, secret: str) -> None:
        """Stores this machine's node credential, dated now."""
        credential = NodeCredential(node_id, secret, int(time.time()))
        self._set_json(server, _NODE_KEY, asdict(credential))

    def clear_node(self, server: str) -> None:
        self._call("delete", self.service_name(server), _NODE_KEY)

    # -- cross-process refresh lock ---------------------------------------------------------

    @contextlib.contextmanager
    def refresh_lock(self) -> Iterator[None]:
        """Held while one process rotates the refresh token: a second process using the old
        token would look like token theft to the server, which then revokes the whole family."""
        self.home.mkdir(parents=True, exist_ok=True)
        handle = open(self.home / REFRESH_LOCK_FILE, "a+b")  # noqa: SIM115 - held across yield
        try:
            _lock_file(handle)
            yield
        finally:
            with contextlib.suppress(OSError):
                _unlock_file(handle)
            handle.close()

    # -- internals --------------------------------------------------------------------------

    def _get_json(self, server: str, key: str) -> dict[str, Any] | None:
        raw = self._call("get", self.service_name(server), key)
        if not raw:
            return None
        try:
            data = json.loads(raw)
        except ValueError:
            return None
        return data if isinstance(data, dict) else None

    def _set_json(self, server: str, key: str, value: dict[str, Any]) -> None:
        self._call("set", self.service_name(server), key, json.dumps(value))

    def _get_backend(self) -> _FileBackend | _KeyringBackend:
        if self._backend is None:
            system = None if self._choice == "file" else _usable_system_keyring()
            if system is not None:
                self._backend = _KeyringBackend(system)
            elif self._choice == "system":
                raise CredentialError("HIVEMIND_KEYRING=system but no usable system keyring")
            else:
                self._backend = _FileBackend(self.file_path)
                if self._choice == "auto":
                    self._warn_file_fallback()
        return self._backend

    def _call(self, op: str, *args: str) -> Any:
        backend = self._get_backend()
        try:
            return getattr(backend, op)(*args)
        except CredentialError:
            raise
        except Exception as exc:
            if isinstance(backend, _FileBackend) or self._choice == "system":
                raise CredentialError(f"cannot {op} credentials: {exc}") from exc
            # A keyring that looked usable but fails (locked, no D-Bus session): the file
            # still works, and the user is told where their secret went.
            log.debug("keyring %s failed (%s); falling back to file", op, type(exc).__name__)
            self._backend = _FileBackend(self.file_path)
            self._warn_file_fallback()
            return getattr(self._backend, op)(*args)

    def _warn_file_fallback(self) -> None:
        with _warn_lock:
            if self.file_path in _warned_files:
                return
            _warned_files.add(self.file_path)
        print(
            f"warning: no system keyring; storing credentials in {self.file_path} (0600)",
            file=sys.stderr,
        )


if sys.platform == "win32":
    import msvcrt

    def _lock_file(handle: Any) -> None:
        handle.seek(0)
        msvcrt.locking(handle.fileno(), msvcrt.LK_LOCK, 1)

    def _unlock_file(handle: Any) -> None:
        handle.seek(0)
        msvcrt.locking(handle.fileno(), msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _lock_file(handle: Any) -> None:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)

    def _unlock_file(handle: Any) -> None:
        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
