"""HTML from Jinja2 templates (server/web/templates), escaped by default: whatever a user typed
(a job's name, a node's name, an error line) shows as text, never as markup.

Filters every template may use: `cpt` (micro-CPT as CPT), `when` (a UTC time), `ago` (how long
ago, in the page's language), `size` (bytes), `percent`, `short` (an id or digest cut to its
first characters).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, pass_context, select_autoescape
from jinja2.runtime import Context
from markupsafe import Markup

from common.units import format_ucpt
from server.web.i18n import Translator

STATIC_DIR = Path(__file__).parent / "static"


def format_when(timestamp: float | None) -> str:
    if not timestamp:
        return "–"
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M UTC")


def format_size(size: int | float) -> str:
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GB"


@pass_context
def _ago(context: Context, timestamp: float | None) -> Markup | str:
    if not timestamp:
        return "–"
    translator: Translator = context["translator"]
    seconds = max(0, int(time.time() - timestamp))
    if seconds < 60:
        return translator.gettext("%(n)s s ago", n=seconds)
    if seconds < 3600:
        return translator.gettext("%(n)s min ago", n=seconds // 60)
    if seconds < 86400:
        return translator.gettext("%(n)s h ago", n=seconds // 3600)
    return translator.gettext("%(n)s days ago", n=seconds // 86400)


def static_version() -> str:
    """Changes when a static file changes: the pages name static files with it, so browsers
    cache them for long and still fetch a new one after an upgrade."""
    digest = hashlib.sha256()
    for path in sorted(STATIC_DIR.iterdir()):
        digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()[:12]


def make_environment() -> Environment:
    env = Environment(
        loader=PackageLoader("server.web", "templates"),
        autoescape=select_autoescape(["html", "svg"], default_for_string=True),
        undefined=StrictUndefined,  # a typo in a template fails its test, not silently
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        cpt=format_ucpt,
        when=format_when,
        ago=_ago,
        size=format_size,
        percent=lambda fraction: f"{fraction * 100:.0f}%",
        short=lambda text, n=12: (text[:n] + "…") if text and len(text) > n else (text or ""),
    )
    env.globals["static_version"] = static_version()
    return env


def render(env: Environment, template: str, values: Mapping[str, Any]) -> str:
    return env.get_template(template).render(values)
