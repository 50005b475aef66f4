"""The one place where what went wrong becomes an HTTP status and a page: domain errors by
kind (someone else's job is simply not found), an unknown address, and anything unexpected
(logged with its traceback; the page says only that it was logged)."""

from __future__ import annotations

import logging

from aiohttp import web

from server import errors
from server.web.site import VISITOR, page
from server.web.visitors import LIVE_HEADER, Handler

log = logging.getLogger("hivemind.web")

STATUS_BY_ERROR: dict[type[errors.DomainError], int] = {
    errors.InvalidArgument: 400,
    errors.Unauthenticated: 401,
    errors.PermissionDenied: 403,
    errors.NotFound: 404,
    errors.AlreadyExists: 409,
    errors.FailedPrecondition: 409,
    errors.ResourceExhausted: 429,
}


def status_for(error: errors.DomainError) -> int:
    for cls in type(error).__mro__:
        status = STATUS_BY_ERROR.get(cls)  # type: ignore[call-overload]
        if status is not None:
            return status
    return 400


def _error_page(request: web.Request, status: int, message: str) -> web.StreamResponse:
    if VISITOR not in request or LIVE_HEADER in request.headers:
        return web.Response(status=status, text=message + "\n")
    return page(request, "error.html", status=status, status_code=status, message=message)


@web.middleware
async def error_pages(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except errors.DomainError as error:
        return _error_page(request, status_for(error), str(error))
    except web.HTTPNotFound:
        return _error_page(request, 404, "no such page")
    except web.HTTPMethodNotAllowed:
        return _error_page(request, 405, "this page does not take that method")
    except web.HTTPException:
        raise
    except Exception:
        log.exception("page=%s failed", request.path)
        return _error_page(request, 500, "internal error (logged on the server)")
