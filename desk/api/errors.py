"""The domain's errors as HTTP answers, in one place: each error class's status, and the handlers that send it.

The routes let the knowledge base's, the hand-off's and the disclosure's errors propagate; `register` installs
one handler for them on the app, so that no route translates them itself. The status is the same on every
surface; the body is the surface's own:

- the JSON API: ``{"detail": <the error's message>}``;
- Open311 (GeoReport v2): its list of ``{code, description}`` (`desk.api.open311.refusal`);
- the staff pages: the error page, in the staff's words (`desk.web.auth.PageRoute`, which catches them
  before this handler does); a refusal of what a form asked is shown on the page the form was on, by the
  page's own route.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response

from desk.api import open311
from disclosure.public import DisclosureError
from disclosure.staff_review import OriginalsRefused, RedactionRefused, TranscriptNotFound
from handoff.service import CaseError
from knowledge_base.importer import EntryFileError
from knowledge_base.lifecycle import EntryError, EntryNotFound, InvalidTransition, VersionNotFound


class BadBody(ValueError):
    """A request body refused before any route reads it (desk.http_guards): too large (413) or not text (400)."""


# The status of each domain error; a subclass not listed answers with its nearest listed base class's.
STATUS: dict[type[Exception], int] = {
    # 404: there is no such thing, or it is not the user's to see (a case of another department is "not
    # found", the same answer as a number that does not exist, so that case numbers do not leak)
    EntryNotFound: 404,
    VersionNotFound: 404,
    TranscriptNotFound: 404,
    LookupError: 404,  # CaseDesk.get: no such case, or not the actor's
    # 403: it exists, and the staff member may not read or change it
    OriginalsRefused: 403,
    # 409: the entry's state does not allow the change (already published, already retired)
    InvalidTransition: 409,
    # 400 and 422: what was asked is refused, with the reason; nothing was changed
    EntryError: 422,
    EntryFileError: 422,
    DisclosureError: 400,
    RedactionRefused: 400,
    CaseError: 400,
    BadBody: 400,  # desk.http_guards answers a body too large with 413 itself
}
DOMAIN_ERRORS = tuple(STATUS)
# LookupErrors that are bugs, not answers: they stay server errors (500)
NOT_DOMAIN = (KeyError, IndexError)


def status_of(error: BaseException) -> int | None:
    """The HTTP status of a domain error; None for any other exception."""
    if isinstance(error, NOT_DOMAIN):
        return None
    return next((STATUS[kind] for kind in type(error).__mro__ if kind in STATUS), None)


def detail(error: Exception) -> str:
    """The JSON API's words for an error: its own message, as a sentence where the domain gives only a phrase."""
    if type(error) is LookupError:  # CaseDesk: "no case CD-2026-000123"
        return f"There is {error}."
    return str(error)


def refusal(request: Request, error: Exception, status: int) -> Response:
    """`error` answered with `status`, in the format of the surface the route (or the path) belongs to."""
    route_path = getattr(request.scope.get("route"), "path", request.url.path)
    if route_path.startswith(open311.router.prefix):
        return open311.refusal(request, error, status)
    return JSONResponse({"detail": detail(error)}, status_code=status)


async def answer(request: Request, error: Exception) -> Response:
    """The handler of every domain error: its status, in the format of the surface the route belongs to."""
    status = status_of(error)
    if status is None:
        raise error
    return refusal(request, error, status)


# What a validation error may echo of the request: a little, escaped, never raw bytes (nor into the log).
MAX_ECHO_CHARS = 200


def echo(value: Any, depth: int = 0) -> Any:
    """`value` (what the client sent) safe to send back: bytes as their length, strings escaped and cut short."""
    if isinstance(value, bytes | bytearray):
        return f"<{len(value)} bytes>"
    if isinstance(value, str):
        safe = value.encode("utf-8", "backslashreplace").decode("utf-8")
        return safe if len(safe) <= MAX_ECHO_CHARS else f"{safe[:MAX_ECHO_CHARS]}… ({len(value)} characters)"
    if isinstance(value, dict):
        return {echo(str(k)): echo(v, depth + 1) for k, v in list(value.items())[:20]} if depth < 3 else "{…}"
    if isinstance(value, list | tuple):
        return [echo(v, depth + 1) for v in value[:20]] if depth < 3 else "[…]"
    if value is None or isinstance(value, bool | int | float):
        return value
    return echo(str(value), depth)


async def invalid_request(request: Request, error: Exception) -> Response:
    """A request the route's model refuses: 422 with what is wrong where, echoing at most a little of the input.

    (FastAPI's own handler echoes the input whole, and answered 500 to bytes that are not UTF-8.)"""
    errors = error.errors() if isinstance(error, RequestValidationError) else []
    return JSONResponse({"detail": [{"type": echo(e.get("type", "")), "loc": [echo(p) for p in e.get("loc", ())],
                                     "msg": echo(e.get("msg", "")), "input": echo(e.get("input"))}
                                    for e in errors]}, status_code=422)


def register(app: FastAPI) -> None:
    """Install the handler for every domain error (a subclass finds its base class's handler) and for requests
    the routes' models refuse."""
    for kind in DOMAIN_ERRORS:
        app.add_exception_handler(kind, answer)
    app.add_exception_handler(RequestValidationError, invalid_request)
