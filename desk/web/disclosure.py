"""The public disclosure pages: every published conversation and its answers, redacted; no login."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from desk.api.deps import get_settings
from desk.api.disclosure import get_disclosure
from desk.web.formatting import local_time, spelled_duration
from desk.web.templates import templates
from disclosure.public import STATUSES, Disclosure, DisclosureError, DisclosureFilter, PublicConversation, make_filter
from settings import Settings

router = APIRouter(prefix="/disclosure", include_in_schema=False)

ROLE_LABELS = {"citizen": "Citizen", "bot": "Assistant", "staff": "City staff", "system": "Notice"}
SNIPPET_CHARS = 240
FILTER_NAMES = ("q", "department", "topic", "status", "date_from", "date_to")


def snippet(text: str) -> str:
    return text if len(text) <= SNIPPET_CHARS else text[:SNIPPET_CHARS - 1].rstrip() + "…"


def _item(conversation: PublicConversation, names: dict[str, str], timezone: str) -> dict[str, Any]:
    s = conversation.summary
    question = next((m.text for m in conversation.messages if m.role == "citizen"), "")
    answer = next((m.text for m in reversed(conversation.messages) if m.role in ("bot", "staff")), "")
    pending = s.open_case
    return {"id": s.id, "channel": s.channel, "status": s.status, "status_label": STATUSES[s.status],
            "last_at": local_time(s.last_at, timezone), "messages": len(conversation.messages),
            "departments": sorted(names.get(code, code) for code in s.departments),
            "topics": sorted(s.topics), "question": snippet(question), "answer": snippet(answer),
            "pending": pending, "expected": local_time(pending.expected_datetime, timezone) if pending else None}


@router.get("", response_class=HTMLResponse)
def disclosure_page(request: Request, page: int = 1, settings: Settings = Depends(get_settings),
                    disclosure: Disclosure = Depends(get_disclosure)) -> HTMLResponse:
    """Published conversations, newest first, 20 a page, with the search and filters in the query string."""
    raw = {name: (request.query_params.get(name) or "").strip() for name in FILTER_NAMES}
    error, status_code = None, 200
    try:
        filters = make_filter(**raw)
    except DisclosureError as refused:
        error, status_code, filters = str(refused), 400, DisclosureFilter()
    result = disclosure.page(filters, max(1, page))
    chosen = {k: v for k, v in raw.items() if v}
    options = disclosure.options()
    return templates.TemplateResponse(request, "disclosure.html", {
        "city_name": settings.city_name, "filters": raw, "error": error, "statuses": STATUSES,
        "departments": [(code, disclosure.department_names.get(code, code)) for code in options["departments"]],
        "topics": options["topics"], "page": result,
        "delay": spelled_duration(timedelta(hours=settings.disclosure_delay_hours)),
        "items": [_item(c, disclosure.department_names, settings.city_timezone) for c in result.items],
        "query": urlencode(chosen), "page_link": lambda n: "?" + urlencode({**chosen, "page": n}),
    }, status_code=status_code)


@router.get("/{public_id}", response_class=HTMLResponse)
def conversation_page(request: Request, public_id: str, settings: Settings = Depends(get_settings),
                      disclosure: Disclosure = Depends(get_disclosure)) -> HTMLResponse:
    """One published conversation: every message in public form, and its cases' status."""
    conversation = disclosure.conversation(public_id)
    context: dict[str, Any] = {"city_name": settings.city_name, "public_id": public_id}
    if conversation is None:
        return templates.TemplateResponse(request, "disclosure_missing.html", context, status_code=404)
    tz = settings.city_timezone
    return templates.TemplateResponse(request, "disclosure_conversation.html", {
        **context, "item": _item(conversation, disclosure.department_names, tz),
        "cases": [{"case": c, "expected": local_time(c.expected_datetime, tz),
                   "requested": local_time(c.requested_datetime, tz)} for c in conversation.summary.cases],
        "messages": [{"role": m.role, "label": ROLE_LABELS.get(m.role, m.role), "text": m.text,
                      "at": local_time(m.at, tz), "case_id": m.case_id} for m in conversation.messages]})
