"""Signing in and out (the same accounts and the same lockout as the gRPC Login), and the
language switch."""

from __future__ import annotations

from aiohttp import web

from server.accounts import users
from server.errors import DomainError
from server.web.errors import status_for
from server.web.i18n import LANGUAGE_COOKIE, LANGUAGES
from server.web.site import page, site_of, visitor_of
from server.web.visitors import local_path, redirect

LANGUAGE_COOKIE_MAX_AGE = 365 * 86400


async def home(request: web.Request) -> web.Response:
    return redirect("/network" if visitor_of(request).user else "/signin")


async def signin_form(request: web.Request) -> web.Response:
    target = local_path(request.query.get("next"))
    if visitor_of(request).user is not None:
        return redirect(target)
    return page(request, "signin.html", next=target, username="", error="")


async def signin(request: web.Request) -> web.Response:
    form = await request.post()
    username = str(form.get("username", ""))
    password = str(form.get("password", ""))
    target = local_path(str(form.get("next", "")))
    site = site_of(request)
    try:
        user = await users.login(site.ctx, username, password)
    except DomainError as error:
        return page(
            request,
            "signin.html",
            status=status_for(error),
            next=target,
            username=username[:64],
            error=str(error),
        )
    visitor = visitor_of(request)
    visitor.replace_session(
        site.sessions.new(user.user_id, user.credential_generation)
    )  # no fixation
    return redirect(target)


async def signout(request: web.Request) -> web.Response:
    visitor_of(request).replace_session(site_of(request).sessions.new())
    return redirect("/signin")


async def choose_language(request: web.Request) -> web.Response:
    form = await request.post()
    language = str(form.get("language", ""))
    response = redirect(local_path(str(form.get("next", ""))))
    if language in LANGUAGES:
        response.set_cookie(
            LANGUAGE_COOKIE,
            language,
            max_age=LANGUAGE_COOKIE_MAX_AGE,
            path="/",
            samesite="Strict",
            secure=site_of(request).sessions.secure,
            httponly=True,
        )
    return response


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/", home)
    router.add_get("/signin", signin_form)
    router.add_post("/signin", signin)
    router.add_post("/signout", signout)
    router.add_post("/language", choose_language)
