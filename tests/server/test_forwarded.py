"""Which address a call counts as: a trusted proxy's header names the client
(server/rpc/forwarded.py; tests/postgres/test_pg_haproxy.py runs it behind a real HAProxy);
anyone else's header changes nothing, and a bad `trusted_proxies` stops the server at start."""

from __future__ import annotations

from pathlib import Path

import pytest

from server.app import HiveMindServer
from server.config import ServerSettings
from server.rpc.forwarded import forwarded_peer, parse_trusted_proxies

PROXY = parse_trusted_proxies("10.0.0.2, 2001:db8:ff::/64")


def test_a_trusted_proxy_names_the_client_and_nobody_else_can():
    named = [("x-forwarded-for", "198.51.100.4, 203.0.113.7")]
    assert forwarded_peer("ipv4:10.0.0.2:4000", named, PROXY) == "ipv4:203.0.113.7:0"
    assert forwarded_peer("ipv6:[2001:db8:ff::9]:4000", named, PROXY) == "ipv4:203.0.113.7:0"
    v6 = [("x-forwarded-for", "2001:db8:1::5")]
    assert forwarded_peer("ipv6:[::ffff:10.0.0.2]:4000", v6, PROXY) == "ipv6:[2001:db8:1::5]:0"
    # Not a trusted proxy, no header, a header that is no address: the peer as it is.
    assert forwarded_peer("ipv4:10.0.0.3:4000", named, PROXY) == "ipv4:10.0.0.3:4000"
    assert forwarded_peer("ipv4:10.0.0.2:4000", [], PROXY) == "ipv4:10.0.0.2:4000"
    junk = [("x-forwarded-for", "evil.example")]
    assert forwarded_peer("ipv4:10.0.0.2:4000", junk, PROXY) == "ipv4:10.0.0.2:4000"
    assert forwarded_peer("unix:/run/hivemind.sock", named, PROXY) == "unix:/run/hivemind.sock"


def test_a_bad_trusted_proxies_setting_is_refused_before_any_state(tmp_path: Path):
    data_dir = tmp_path / "data"
    with pytest.raises(ValueError, match="trusted_proxies: 'haproxy' is not an IP address"):
        HiveMindServer(ServerSettings.load(data_dir, trusted_proxies="10.0.0.2,haproxy"))
    assert not (data_dir / "hivemind.db").exists()
