"""The reports page for supervisors (every department, or one) and department heads (their own): the period's
figures beside the previous period's, charts (server-side SVG, desk/web/report_charts.py), the cases behind each
figure, and a CSV of them with one row per case. The figures are handoff/report.py's, as `citydesk report` prints."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, time
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from desk.api.deps import get_cases
from desk.web import report_charts
from desk.web.auth import REPORTS_PATH, PageError, PageRoute, current_user, page_context
from desk.web.formatting import local_time
from desk.web.templates import templates
from handoff.models import Role, StaffUser
from handoff.report import (
    FIGURES,
    OUTCOMES,
    PERIODS,
    Period,
    build_report,
    cases_behind,
    daily_volume,
    period_for,
    response_by_class,
)
from handoff.service import CaseDesk

CHARTS = ("volume", "response", "delay", "topics")
CSV_COLUMNS = ("service_request_id", "department", "service_code", "sla", "channel", "state", "status",
               "requested_datetime", "expected_datetime", "answered_at", "closed_at", "first_response_hours",
               "is_emergency")

router = APIRouter(prefix=REPORTS_PATH, include_in_schema=False, route_class=PageRoute,
                   dependencies=[Depends(current_user)])


def _moment(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        moment = (datetime.fromisoformat(text) if "T" in text
                  else datetime.combine(date.fromisoformat(text), time()))
    except ValueError:
        raise PageError(400, "Not a date", f"{text!r} is not a date: write 2026-12-01.") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class Scope:
    """The period and department a request asks for, as the user may see them."""

    def __init__(self, request: Request, user: StaffUser, cases: CaseDesk) -> None:
        params = request.query_params
        if user.role == Role.SUPERVISOR:
            department = params.get("department") or None
            if department is not None and department not in self._known(cases):
                raise PageError(404, "No such department", f"There is no department {department!r}.")
        elif user.role == Role.HEAD and user.department:
            department = user.department
            if params.get("department") not in (None, "", department):  # another department's figures: not theirs
                raise PageError(404, "No such department", "Your reports cover your own department only.")
        else:
            raise PageError(403, "Reports are for heads and supervisors",
                            "Reports are shown to department heads and supervisors.")
        self.period_name = params.get("period") or "week"
        if self.period_name not in PERIODS:
            raise PageError(400, "No such period", "The period is day, week or month.")
        self.now = cases.now()
        self.start_text, self.end_text = params.get("from") or "", params.get("to") or ""
        try:
            self.period: Period = period_for(now=self.now, period=self.period_name,
                                             start=_moment(self.start_text), end=_moment(self.end_text))
        except ValueError as exc:
            raise PageError(400, "No such period", str(exc)) from exc
        self.department = department

    @staticmethod
    def _known(cases: CaseDesk) -> set[str]:
        from sqlalchemy import distinct, select

        from handoff.models import Case

        with cases.sessions() as session:
            recorded = set(session.scalars(select(distinct(Case.agency_responsible))))
        return recorded | {d.code for d in cases.directory.departments}

    def query(self, **extra: str) -> str:
        values = {"period": self.period_name, "from": self.start_text, "to": self.end_text,
                  "department": self.department or "", **extra}
        return urlencode({key: value for key, value in values.items() if value})


def _scope(request: Request, user: StaffUser = Depends(current_user),
           cases: CaseDesk = Depends(get_cases)) -> Scope:
    return Scope(request, user, cases)


def _name(cases: CaseDesk, code: str) -> str:
    try:
        return cases.directory.department(code).name
    except KeyError:
        return code


@router.get("", response_class=HTMLResponse)
def reports_page(request: Request, scope: Scope = Depends(_scope), user: StaffUser = Depends(current_user),
                 cases: CaseDesk = Depends(get_cases)) -> HTMLResponse:
    """The period's figures, charts and drill-down links."""
    report = build_report(cases.sessions, period=scope.period, now=scope.now, department=scope.department)
    outcomes = [(key, key.replace("_", " ")) for key in OUTCOMES.values()]
    departments = [{"code": code, "name": _name(cases, code), **row} for code, row in report["by_department"].items()]
    choices = sorted({d.code for d in cases.directory.departments} | set(report["by_department"]))
    return templates.TemplateResponse(request, "reports.html", page_context(
        request, user, report=report, scope=scope, outcomes=outcomes, departments=departments,
        charts=CHARTS, figures=FIGURES, periods=list(PERIODS), choices=[(c, _name(cases, c)) for c in choices],
        department_name=_name(cases, scope.department) if scope.department else None,
        period_from=local_time(scope.period.start, cases.timezone),
        period_to=local_time(scope.period.end, cases.timezone)))


@router.get("/charts/{name}.svg")
def chart(name: str, scope: Scope = Depends(_scope), cases: CaseDesk = Depends(get_cases)) -> Response:
    """One chart, as an SVG image."""
    if name not in CHARTS:
        raise PageError(404, "No such chart", f"There is no chart {name!r}.")
    sessions, period, department = cases.sessions, scope.period, scope.department
    if name == "volume":
        svg = report_charts.volume_chart(daily_volume(sessions, period=period, department=department))
    elif name == "response":
        svg = report_charts.response_chart(response_by_class(sessions, period=period, department=department))
    else:
        report = build_report(sessions, period=period, now=scope.now, department=department)
        svg = (report_charts.delay_chart(report["by_department"]) if name == "delay"
               else report_charts.topics_chart(report["top_topics"]))
    return Response(svg, media_type="image/svg+xml", headers={"Cache-Control": "private, max-age=60"})


def _figure(request: Request) -> str:
    figure = request.query_params.get("figure") or "opened"
    if figure not in FIGURES:
        raise PageError(404, "No such figure", f"There is no figure {figure!r}.")
    return figure


def _hours(answered: datetime | None, requested: datetime) -> str:
    return f"{(answered - requested).total_seconds() / 3600:.2f}" if answered else ""


@router.get("/cases", response_class=HTMLResponse)
def cases_page(request: Request, scope: Scope = Depends(_scope), user: StaffUser = Depends(current_user),
               cases: CaseDesk = Depends(get_cases)) -> HTMLResponse:
    """The cases behind one figure, each linked to its page in the inbox."""
    figure = _figure(request)
    rows = cases_behind(cases.sessions, figure=figure, period=scope.period, now=scope.now,
                        department=scope.department)
    shown = [{"case": case, "department": _name(cases, case.agency_responsible),
              "requested": local_time(case.requested_datetime, cases.timezone),
              "deadline": local_time(case.expected_datetime, cases.timezone),
              "answered": local_time(case.answered_at, cases.timezone) if case.answered_at else "",
              "hours": _hours(case.answered_at, case.requested_datetime)} for case in rows]
    return templates.TemplateResponse(request, "report_cases.html", page_context(
        request, user, rows=shown, figure=figure, label=FIGURES[figure], scope=scope,
        department_name=_name(cases, scope.department) if scope.department else None))


@router.get("/cases.csv")
def cases_csv(request: Request, scope: Scope = Depends(_scope), cases: CaseDesk = Depends(get_cases)) -> Response:
    """The cases behind one figure as CSV, one row per case (no personal data: no names, contacts or texts)."""
    figure = _figure(request)
    rows = cases_behind(cases.sessions, figure=figure, period=scope.period, now=scope.now,
                        department=scope.department)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for case in rows:
        values: dict[str, Any] = {
            "service_request_id": case.service_request_id, "department": case.agency_responsible,
            "service_code": case.service_code or "", "sla": case.sla, "channel": case.channel, "state": case.state,
            "status": case.status, "requested_datetime": case.requested_datetime.isoformat(),
            "expected_datetime": case.expected_datetime.isoformat(),
            "answered_at": case.answered_at.isoformat() if case.answered_at else "",
            "closed_at": case.closed_at.isoformat() if case.closed_at else "",
            "first_response_hours": _hours(case.answered_at, case.requested_datetime),
            "is_emergency": "yes" if case.is_emergency else "no"}
        writer.writerow([values[column] for column in CSV_COLUMNS])
    name = f"cases-{figure}-{scope.period.start.date()}-{scope.period.end.date()}.csv"
    return Response(buffer.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
