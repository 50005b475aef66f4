"""Settings of the worker's BitTorrent session, and how libtorrent is told about them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import libtorrent as lt

from app.services.settings import ContributorSettings

BYTES_PER_KB = 1024  # the UI's "KB/s" slider


@dataclass
class TorrentSessionSettings:
    listen_interface: str = "0.0.0.0"
    listen_port: int = 0  # 0 = let the OS pick; `TorrentSession.listen_port` tells which
    upload_rate: int = 0  # bytes/s, 0 = unlimited
    download_rate: int = 0
    # A private swarm: peers come from the server, never from public discovery.
    dht: bool = False
    lsd: bool = False
    upnp: bool = False
    natpmp: bool = False
    # TCP only by default: workers dial the server and each other directly, and uTP costs
    # much more CPU per byte (about 4x slower between loopback peers here).
    utp: bool = False
    # -1 = serve every interested peer: workers cooperate, there is nobody to punish.
    unchoke_slots: int = -1
    state_dir: Path | None = None  # resume data lives here; None = none kept
    stall_timeout_s: float = 30.0  # no new byte for this long -> TorrentStalled
    poll_interval_s: float = 0.1

    @classmethod
    def from_contributor(
        cls, contributor: ContributorSettings, state_dir: Path | None = None, **overrides: object
    ) -> TorrentSessionSettings:
        settings = cls(
            upload_rate=kbps_to_rate(contributor.upload_kbps),
            download_rate=kbps_to_rate(contributor.download_kbps),
            state_dir=state_dir,
        )
        for name, value in overrides.items():
            if not hasattr(settings, name):
                raise ValueError(f"unknown BitTorrent setting {name!r}")
            setattr(settings, name, value)
        return settings


def kbps_to_rate(kbps: int) -> int:
    """The contributor's KB/s slider in bytes/s (0 stays "unlimited")."""
    return max(0, int(kbps)) * BYTES_PER_KB


def listen_interfaces(interface: str, port: int) -> str:
    host = f"[{interface}]" if ":" in interface and not interface.startswith("[") else interface
    return f"{host}:{int(port)}"


def session_pack(settings: TorrentSessionSettings) -> dict[str, object]:
    """libtorrent's settings for `settings`."""
    return {
        "listen_interfaces": listen_interfaces(settings.listen_interface, settings.listen_port),
        # A configured port that is taken must fail loudly, not move somewhere else.
        "listen_system_port_fallback": False,
        "enable_dht": settings.dht,
        "enable_lsd": settings.lsd,
        "enable_upnp": settings.upnp,
        "enable_natpmp": settings.natpmp,
        "enable_outgoing_utp": settings.utp,
        "enable_incoming_utp": settings.utp,
        # Several workers behind one NAT (or on one machine) share an address.
        "allow_multiple_connections_per_ip": True,
        "upload_rate_limit": max(0, settings.upload_rate),
        "download_rate_limit": max(0, settings.download_rate),
        "unchoke_slots_limit": settings.unchoke_slots,
        "user_agent": "HiveMind",
        "alert_mask": (
            lt.alert_category.error | lt.alert_category.status | lt.alert_category.storage
        ),
    }


def limit_every_peer(session: lt.session) -> None:
    """Puts every address in the global peer class. By default libtorrent puts LAN and
    loopback peers in a "local" class that ignores rate limits and unchoke slots; a
    contributor's bandwidth limit must hold for peers on their own network too."""
    everyone = lt.ip_filter()
    mask = 1 << lt.session.global_peer_class_id
    everyone.add_rule("0.0.0.0", "255.255.255.255", mask)
    everyone.add_rule("::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", mask)
    session.set_peer_class_filter(everyone)
