"""The public dashboard on the disclosure site (disclosure/dashboard.py): per department and month, aggregates only;
as a page and as CSV. No login."""

from __future__ import annotations

import csv
import io

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from desk.api.deps import get_cases, get_settings
from desk.web.templates import templates
from disclosure.dashboard import COLUMNS, SMALL, dashboard
from handoff.service import CaseDesk
from settings import Settings

router = APIRouter(prefix="/disclosure", include_in_schema=False)
MONTHS = 6
LABELS = {"month": "Month", "department": "Department", "received": "Messages received",
          "answered_by_assistant": "Answered by the assistant", "cases": "Cases", "answered_in_time":
          "Answered in time", "delay_rate": "Delay rate", "median_response_hours": "Median first response (hours)"}


@router.get("/dashboard", response_class=HTMLResponse)
def dashboard_page(request: Request, settings: Settings = Depends(get_settings),
                   cases: CaseDesk = Depends(get_cases)) -> HTMLResponse:
    """How each department answered, month by month."""
    rows = dashboard(cases.sessions, cases.directory, now=cases.now(), timezone=settings.city_timezone,
                     count=MONTHS)
    return templates.TemplateResponse(request, "disclosure_dashboard.html", {
        "city_name": settings.city_name, "rows": rows, "columns": COLUMNS, "labels": LABELS, "small": SMALL})


@router.get("/dashboard.csv")
def dashboard_csv(settings: Settings = Depends(get_settings), cases: CaseDesk = Depends(get_cases)) -> Response:
    """The dashboard as CSV, one row per department and month."""
    rows = dashboard(cases.sessions, cases.directory, now=cases.now(), timezone=settings.city_timezone,
                     count=MONTHS)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow(row.cells())
    return Response(buffer.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="citydesk-dashboard.csv"'})
