"""Public disclosure exports: every published conversation, redacted, as JSON or CSV (the page's filters)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse

from disclosure.export import csv_chunks, json_chunks
from disclosure.public import STATUSES, Disclosure, DisclosureFilter, make_filter

router = APIRouter(prefix="/api/disclosure", tags=["disclosure"])


def get_disclosure(request: Request) -> Disclosure:
    return request.app.state.disclosure


def query_filter(q: str | None = Query(default=None, max_length=200, description="Text in the public messages."),
                 department: str | None = Query(default=None, max_length=100, description="Department code."),
                 topic: str | None = Query(default=None, max_length=200,
                                           description="A case's category or an answering entry's topic."),
                 status: str | None = Query(default=None, description=" | ".join(STATUSES)),
                 date_from: str | None = Query(default=None, description="YYYY-MM-DD (UTC)"),
                 date_to: str | None = Query(default=None, description="YYYY-MM-DD (UTC), inclusive")
                 ) -> DisclosureFilter:
    return make_filter(q=q, department=department, topic=topic, status=status, date_from=date_from,
                       date_to=date_to)  # a bad filter: DisclosureError, 400 (desk.api.errors)


def export_meta(disclosure: Disclosure, filters: DisclosureFilter) -> dict[str, object]:
    return {"generated_at": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
            "published_before": disclosure.cutoff().isoformat().replace("+00:00", "Z"),
            "delay_hours": disclosure.delay.total_seconds() / 3600,
            "filters": {k: (v.isoformat() if isinstance(v, date) else v) for k, v in vars(filters).items() if v}}


@router.get("/conversations.json")
def conversations_json(filters: DisclosureFilter = Depends(query_filter),
                       disclosure: Disclosure = Depends(get_disclosure)) -> StreamingResponse:
    """Every published conversation that passes the filters, newest first, with its messages in public form."""
    return StreamingResponse(json_chunks(disclosure.stream(filters), export_meta(disclosure, filters)),
                             media_type="application/json")


@router.get("/conversations.csv")
def conversations_csv(filters: DisclosureFilter = Depends(query_filter),
                      disclosure: Disclosure = Depends(get_disclosure)) -> StreamingResponse:
    """The same as CSV: one row per published message."""
    return StreamingResponse(csv_chunks(disclosure.stream(filters)), media_type="text/csv; charset=utf-8",
                             headers={"Content-Disposition": 'attachment; filename="conversations.csv"'})
