"""Where credentials live: the file fallback, its permissions, one identity per home.

This machine has no system keyring (keyring reports its `fail` backend), so "auto" exercises
the real fallback path. A working OS keychain cannot run here and is not simulated.
"""

from __future__ import annotations

import stat

import pytest

from app.services.client import credentials as credentials_module
from app.services.client.credentials import CredentialError, CredentialStore, UserCredential


def test_file_store_round_trip_is_private(tmp_path):
    store = CredentialStore(tmp_path / "home", backend="file")
    store.save_user("127.0.0.1:50051", UserCredential("alice", "refresh-1", "access-1", 99))
    store.save_node("127.0.0.1:50051", "node-1", "s3cret")

    assert store.load_user("127.0.0.1:50051") == UserCredential(
        "alice", "refresh-1", "access-1", 99
    )
    node = store.load_node("127.0.0.1:50051")
    assert (node.node_id, node.secret) == ("node-1", "s3cret")
    mode = stat.S_IMODE((tmp_path / "home" / "credentials.json").stat().st_mode)
    assert mode == 0o600

    store.clear_user("127.0.0.1:50051")
    assert store.load_user("127.0.0.1:50051") is None
    assert store.load_node("127.0.0.1:50051") is not None  # the node stays registered


def test_servers_and_homes_are_separate_identities(tmp_path):
    shared = tmp_path / "home"
    one = CredentialStore(shared, backend="file")
    one.save_user("a.example:1", UserCredential("alice", "r"))
    assert one.load_user("b.example:1") is None
    assert CredentialStore(shared, backend="file").load_user("a.example:1").username == "alice"

    other_home = CredentialStore(tmp_path / "other", backend="file")
    assert other_home.load_user("a.example:1") is None
    assert one.service_name("a.example:1") != other_home.service_name("a.example:1")


def test_no_system_keyring_falls_back_to_file_with_one_warning(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(credentials_module, "_warned_files", set())
    store = CredentialStore(tmp_path / "home", backend="auto")
    store.save_user("127.0.0.1:50051", UserCredential("alice", "r"))
    store.load_user("127.0.0.1:50051")
    CredentialStore(tmp_path / "home", backend="auto").load_user("127.0.0.1:50051")

    err = capsys.readouterr().err
    path = tmp_path / "home" / "credentials.json"
    assert err == f"warning: no system keyring; storing credentials in {path} (0600)\n"
    assert store.uses_file


def test_forcing_the_system_keyring_without_one_is_a_clear_error(tmp_path):
    store = CredentialStore(tmp_path / "home", backend="system")
    with pytest.raises(CredentialError, match="no usable system keyring"):
        store.load_user("127.0.0.1:50051")


def test_unknown_backend_choice(tmp_path):
    with pytest.raises(CredentialError, match="HIVEMIND_KEYRING must be auto, file or system"):
        CredentialStore(tmp_path, backend="vault")


def test_damaged_file_is_reported(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    (home / "credentials.json").write_text("{not json")
    with pytest.raises(CredentialError, match="cannot read credentials file"):
        CredentialStore(home, backend="file").load_user("x:1")
