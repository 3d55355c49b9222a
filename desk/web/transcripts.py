"""Staff: one conversation's transcript with its originals, the redaction log, and the forms to redact more."""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypedDict
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from desk.api.deps import get_settings
from desk.web.auth import INBOX_PATH, PageRoute, csrf_protected, flash, logged_in_user, page_context
from desk.web.formatting import local_time
from desk.web.templates import templates
from disclosure.staff_review import RedactionRefused, StaffTranscript, TranscriptDesk
from handoff import audit
from handoff.models import Role, StaffUser
from handoff.staff import actor_of
from settings import Settings
from transcripts.log_models import REDACT

router = APIRouter(prefix=INBOX_PATH, include_in_schema=False, route_class=PageRoute)
post_router = APIRouter(prefix=INBOX_PATH, include_in_schema=False, route_class=PageRoute,
                        dependencies=[Depends(csrf_protected)])


def get_transcripts(request: Request) -> TranscriptDesk:
    return request.app.state.transcripts


def conversation_path(conversation_id: str) -> str:
    return f"{INBOX_PATH}/conversations/{quote(conversation_id, safe='')}"


class _LogRow(TypedDict):
    """One line of the redaction log; the page shows `at` in the city's time."""

    at: datetime
    who: str
    what: str
    record: int
    why: str
    detail: str


def _log_rows(transcript: StaffTranscript, timezone: str) -> list[dict[str, Any]]:
    """The automatic redactions (derived from the originals) and the logged manual ones, in time order."""
    rows: list[_LogRow] = [
        {"at": r.record.at, "who": "redactor (automatic)", "what": f"redacted {f.kind}", "record": r.record.id,
         "why": "personal data found when the message was written", "detail": f.text}
        for r in transcript.records for f in r.findings]
    for row in transcript.log:
        what = ("hid the whole message" if row.action == REDACT and row.text_sha256 is None else
                f"hid a text of {row.text_length} characters" if row.action == REDACT else
                f"un-redacted {row.finding_kind}")
        rows.append({"at": row.at, "who": f"{row.actor} ({row.actor_role})", "what": what, "record": row.record_id,
                     "why": row.reason, "detail": ""})
    rows.sort(key=lambda x: x["at"])
    return [{**x, "at": local_time(x["at"], timezone)} for x in rows]


def _page(request: Request, user: StaffUser, desk: TranscriptDesk, settings: Settings, conversation_id: str, *,
          error: tuple[int, str] | None = None, typed: dict[str, str] | None = None,
          status_code: int = 200) -> HTMLResponse:
    transcript = desk.conversation(actor_of(user), conversation_id)  # refused: the error page (PageRoute)
    tz = settings.city_timezone
    return templates.TemplateResponse(request, "transcript.html", page_context(
        request, user, transcript=transcript, path=conversation_path(conversation_id),
        records=[{"r": r, "at": local_time(r.record.at, tz)} for r in transcript.records],
        log=_log_rows(transcript, tz), error=error, typed=typed or {}, is_supervisor=user.role == Role.SUPERVISOR),
        status_code=status_code)


@router.get("/conversations/{conversation_id:path}", response_class=HTMLResponse)
def transcript_page(request: Request, conversation_id: str, user: StaffUser = Depends(logged_in_user),
                    desk: TranscriptDesk = Depends(get_transcripts),
                    settings: Settings = Depends(get_settings)) -> HTMLResponse:
    """Department staff: conversations with a case in their department. Supervisors: all. Each view of the
    originals goes into the audit log (a refused one shows nothing and is not logged)."""
    page = _page(request, user, desk, settings, conversation_id)
    request.app.state.audit.record(user.username, audit.ORIGINALS_VIEWED, conversation_id,
                                   f"as {user.role}")
    return page


def _change(request: Request, user: StaffUser, desk: TranscriptDesk, settings: Settings, record_id: int,
            conversation_id: str, typed: dict[str, str], action: Any, done: str) -> Response:
    try:
        action()  # no such message, or not the user's: the error page (PageRoute)
    except RedactionRefused as refused:
        return _page(request, user, desk, settings, conversation_id, error=(record_id, f"{refused}."),
                     typed=typed, status_code=400)
    flash(request, done)
    return RedirectResponse(conversation_path(conversation_id), status_code=303)


@post_router.post("/transcripts/records/{record_id}/redact")
def redact(request: Request, record_id: int, conversation_id: str = Form(""), text: str = Form(""),
           whole: str = Form(""), reason: str = Form(""), user: StaffUser = Depends(logged_in_user),
           desk: TranscriptDesk = Depends(get_transcripts), settings: Settings = Depends(get_settings)) -> Response:
    """Hide more of a message from the public, on the citizen's request."""
    return _change(request, user, desk, settings, record_id, conversation_id, {"text": text, "reason": reason},
                   lambda: desk.redact(actor_of(user), record_id=record_id, text=text, whole_record=bool(whole),
                                       reason=reason),
                   f"Message {record_id}: hidden from the public view, and logged.")


@post_router.post("/transcripts/records/{record_id}/unredact")
def unredact(request: Request, record_id: int, conversation_id: str = Form(""), start: int = Form(...),
             end: int = Form(...), reason: str = Form(""), user: StaffUser = Depends(logged_in_user),
             desk: TranscriptDesk = Depends(get_transcripts), settings: Settings = Depends(get_settings)) -> Response:
    """Publish one automatically redacted part of a message (supervisors)."""
    return _change(request, user, desk, settings, record_id, conversation_id, {"reason": reason},
                   lambda: desk.unredact(actor_of(user), record_id=record_id, start=start, end=end, reason=reason),
                   f"Message {record_id}: un-redacted, and logged.")
