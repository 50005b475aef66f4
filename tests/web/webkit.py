"""A test as a browser without a browser: an HTTP client with its own cookie jar that signs in,
reads the CSRF token of the page it got, and posts forms (aiohttp, against the real server's
dashboard on 127.0.0.1). tests/web/test_browser.py drives a real Chromium instead."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import aiohttp

from tests.kit.accounts import PASSWORD

CSRF_FIELD = re.compile(r'name="csrf" value="([^"]+)"')


@dataclass
class Reply:
    status: int
    text: str
    headers: Any
    location: str


class WebClient:
    """`async with WebClient(server.http_url) as web: await web.sign_in("alice")`."""

    def __init__(self, base: str, ssl: Any = None) -> None:
        self.base = base
        self.ssl = ssl
        # unsafe: keep cookies of an IP address (127.0.0.1), as a browser does.
        self.http = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
        self.csrf = ""

    async def __aenter__(self) -> WebClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.http.close()

    async def get(self, path: str, **headers: str) -> Reply:
        async with self.http.get(
            self.base + path, allow_redirects=False, headers=headers, ssl=self.ssl
        ) as response:
            reply = Reply(
                response.status,
                await response.text(errors="replace"),
                response.headers,
                response.headers.get("Location", ""),
            )
        found = CSRF_FIELD.search(reply.text)
        if found:
            self.csrf = found.group(1)
        return reply

    async def post(self, path: str, form: dict[str, str], **headers: str) -> Reply:
        """Posts `form` as a page of the dashboard would (the last page's CSRF token
        unless `form` names one)."""
        data = {"csrf": self.csrf, **form}
        async with self.http.post(
            self.base + path, data=data, allow_redirects=False, headers=headers, ssl=self.ssl
        ) as response:
            return Reply(
                response.status,
                await response.text(errors="replace"),
                response.headers,
                response.headers.get("Location", ""),
            )

    async def sign_in_page(self) -> Reply:
        return await self.get("/signin")

    async def sign_in(self, username: str, password: str = PASSWORD) -> Reply:
        await self.get("/signin")
        return await self.post("/signin", {"username": username, "password": password})

    def cookie(self, name: str) -> Any:
        for cookie in self.http.cookie_jar:
            if cookie.key == name:
                return cookie
        return None
