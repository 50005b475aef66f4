"""An invitation to a network: which server to join, so a newcomer joins with one click and
never types an address.

It comes, first found first, from
- a link `hivemind://join?server=HOST:PORT&tls=1&name=Some%20Network` given to the app
  (`hivemind-app LINK`, which is what a desktop does when the link is clicked), or
- a `network.json` in the HiveMind home, or beside the app's executable (an installer made
  for one network ships it there):
  {"name": "Some Network", "server": "hive.example.org:50051", "tls": true, "ca_file": ""}

A bad invitation is refused with a one-line reason and changes nothing. No Qt.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from app.services.client.channel import parse_server_address

SCHEME = "hivemind"
FILE_NAME = "network.json"
MAX_NAME_CHARS = 80


class InvalidInvitation(ValueError):
    """The link or file is not an invitation this app can use; the message says why."""


@dataclass(frozen=True)
class Invitation:
    server: str
    name: str = ""  # the network's name, for people; empty = the server's address
    tls: bool = False
    ca_file: str = ""
    source: str = ""  # where it came from (a link, a file path), for the log

    @property
    def title(self) -> str:
        return self.name or self.server


def _checked(server: str, name: str, tls: bool, ca_file: str, source: str) -> Invitation:
    server = server.strip()
    try:
        parse_server_address(server)
    except ValueError as exc:
        raise InvalidInvitation(f"{source}: {exc}") from None
    name = " ".join(name.split())[:MAX_NAME_CHARS]
    return Invitation(server, name, tls, ca_file.strip(), source)


def parse_link(link: str) -> Invitation:
    """`hivemind://join?server=...&tls=1&name=...` -> Invitation; InvalidInvitation if not."""
    parts = urlsplit(link.strip())
    if parts.scheme != SCHEME or (parts.netloc or parts.path.strip("/")) != "join":
        raise InvalidInvitation(f"not a HiveMind join link: {link[:200]!r}")
    query = parse_qs(parts.query)

    def one(key: str) -> str:
        values = query.get(key, [])
        return values[0] if values else ""

    if not one("server"):
        raise InvalidInvitation("the join link names no server (server=HOST:PORT)")
    tls = one("tls").lower() in ("1", "true", "yes")
    return _checked(one("server"), one("name"), tls, "", "link")


def read_file(path: Path) -> Invitation:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InvalidInvitation(f"cannot read {path}: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise InvalidInvitation(f"{path} is not valid JSON: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("server"), str):
        raise InvalidInvitation(f'{path} names no server ("server": "HOST:PORT")')
    name, ca_file = data.get("name", ""), data.get("ca_file", "")
    if not isinstance(name, str) or not isinstance(ca_file, str):
        raise InvalidInvitation(f"{path}: name and ca_file must be text")
    return _checked(data["server"], name, bool(data.get("tls", False)), ca_file, str(path))


def file_locations(home: Path) -> list[Path]:
    """Where a network.json is looked for: the home, then beside the executable."""
    places = [Path(home) / FILE_NAME]
    if getattr(sys, "frozen", False):  # the installed app (PyInstaller)
        places.append(Path(sys.executable).resolve().parent / FILE_NAME)
    return places


def find_invitation(home: Path, link: str = "") -> Invitation | None:
    """The invitation the app was given, or None. A bad link or file raises
    InvalidInvitation (the caller logs it and goes on without one)."""
    if link:
        return parse_link(link)
    for path in file_locations(home):
        if path.is_file():
            return read_file(path)
    return None
