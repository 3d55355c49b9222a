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

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from desk.api import open311
from disclosure.public import DisclosureError
from disclosure.staff_review import OriginalsRefused, RedactionRefused, TranscriptNotFound
from handoff.service import CaseError
from knowledge_base.importer import EntryFileError
from knowledge_base.lifecycle import EntryError, EntryNotFound, InvalidTransition, VersionNotFound

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


async def answer(request: Request, error: Exception) -> Response:
    """The handler of every domain error: its status, in the format of the surface the route belongs to."""
    status = status_of(error)
    if status is None:
        raise error
    route_path = getattr(request.scope.get("route"), "path", request.url.path)
    if route_path.startswith(open311.router.prefix):
        return open311.refusal(request, error, status)
    return JSONResponse({"detail": detail(error)}, status_code=status)


def register(app: FastAPI) -> None:
    """Install the handler for every domain error (a subclass finds its base class's handler)."""
    for kind in DOMAIN_ERRORS:
        app.add_exception_handler(kind, answer)
