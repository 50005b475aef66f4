"""Where the dashboard listens and how: TLS with the server's certificate, plaintext refused
off loopback as gRPC refuses it, and an address another program holds."""

from __future__ import annotations

import logging
import socket
import ssl
from pathlib import Path

import pytest

from server.app import HiveMindServer
from server.config import DEFAULT_HTTP_LISTEN, ServerSettings
from tests.kit.certificates import issue_server_cert, make_authority
from tests.web.webkit import WebClient


async def test_tls_dashboard_with_the_servers_certificate(make_server, tmp_path):
    authority = make_authority("web")
    cert = issue_server_cert(authority, tmp_path)
    server = await make_server(
        http_listen="127.0.0.1:0",
        tls_cert_file=str(cert.cert_file),
        tls_key_file=str(cert.key_file),
    )
    assert server.http_url.startswith("https://127.0.0.1:")
    trust = ssl.create_default_context(cafile=str(authority.write(tmp_path)))
    async with WebClient(server.http_url, ssl=trust) as web:
        reply = await web.sign_in_page()
        assert reply.headers["Strict-Transport-Security"].startswith("max-age=")
        [set_cookie] = reply.headers.getall("Set-Cookie")
        # Secure, and a name only this host over TLS can set (the __Host- prefix).
        assert set_cookie.startswith("__Host-hivemind-session=")
        assert "Secure" in set_cookie and "HttpOnly" in set_cookie
    async with WebClient(server.http_url, ssl=ssl.create_default_context()) as stranger:
        with pytest.raises(Exception, match="CERTIFICATE_VERIFY_FAILED"):
            await stranger.get("/healthz")


def test_plaintext_dashboard_off_loopback_is_refused(tmp_path: Path):
    data_dir = tmp_path / "data"
    with pytest.raises(ValueError, match=r"web dashboard.*refusing to serve plaintext on 0\.0"):
        HiveMindServer(ServerSettings.load(data_dir, http_listen="0.0.0.0:8080"))
    with pytest.raises(ValueError, match="invalid http_listen 'everywhere'"):
        HiveMindServer(ServerSettings.load(data_dir, http_listen="everywhere"))
    assert not (data_dir / "hivemind.db").exists()  # refused before any state was made


async def test_an_address_in_use(make_server, caplog):
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        taken = f"127.0.0.1:{holder.getsockname()[1]}"
        with pytest.raises(OSError, match=f"web dashboard cannot listen on {taken}"):
            await make_server(http_listen=taken)
    # "auto" steps aside: gRPC serves, the dashboard does not, and the log says why.
    host, port = DEFAULT_HTTP_LISTEN.rsplit(":", 1)
    with socket.socket() as holder:
        holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            holder.bind((host, int(port)))
            holder.listen()
        except OSError:
            pass  # another program holds it already: the same case
        with caplog.at_level(logging.WARNING, logger="hivemind.server"):
            server = await make_server(http_listen="auto")
    assert server.port and server.http_url == ""
    assert f"web dashboard not started: {host}:{port} is taken" in caplog.text
