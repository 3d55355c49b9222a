"""The public dashboard: per department and month, how the city answered, in aggregates only.

Per department (the city's directory) and calendar month (city time): messages received, answered by the assistant,
cases, cases answered in time, delay rate and median first response (hours). A department's messages are those
that opened one of its cases plus those the assistant answered from one of its knowledge base entries. The figures
are handoff/report.py's SQL aggregations; no row, text or person is shown. Counts from 1 to 4 are shown as "<5",
and a rate or median resting on fewer than 5 cases is withheld ("<5 cases"), so that no small count identifies
anyone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import sessionmaker

from handoff.directory import Directory
from handoff.models import MessageDecision
from handoff.report import Period, build_report
from knowledge_base.store import EntryRow

SMALL = 5
SMALL_LABEL = "<5"
WITHHELD = "<5 cases"
COLUMNS = ("month", "department", "received", "answered_by_assistant", "cases", "answered_in_time", "delay_rate",
           "median_response_hours")


@dataclass(frozen=True)
class DashboardRow:
    """One department's month, as the public sees it (cells already protected)."""

    month: str
    department: str
    received: str
    answered_by_assistant: str
    cases: str
    answered_in_time: str
    delay_rate: str
    median_response_hours: str

    def cells(self) -> list[str]:
        return [getattr(self, column) for column in COLUMNS]


def count_cell(count: int) -> str:
    """A count, or "<5" for 1 to 4."""
    return SMALL_LABEL if 0 < count < SMALL else str(count)


def months(now: datetime, timezone: str, count: int) -> list[Period]:
    """The last `count` calendar months in the city's time, the current (partial) one first."""
    zone = ZoneInfo(timezone)
    local = now.astimezone(zone)
    year, month = local.year, local.month
    periods = []
    for _ in range(count):
        start = datetime.combine(local.date().replace(year=year, month=month, day=1), time(), zone)
        following = (year + month // 12, month % 12 + 1)
        end = datetime.combine(start.date().replace(year=following[0], month=following[1]), time(), zone)
        periods.append(Period(start=start, end=min(end, now) if start < now else end))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return periods


def _assistant_answers(sessions: sessionmaker, period: Period) -> dict[str, int]:
    """The assistant's answers in the period per department name of the entry answered."""
    query = (select(EntryRow.department, func.count()).select_from(MessageDecision)
             .join(EntryRow, EntryRow.id == MessageDecision.entry_id)
             .where(MessageDecision.route == "answer", MessageDecision.at >= period.start,
                    MessageDecision.at < period.end)
             .group_by(EntryRow.department))
    with sessions() as session:
        return {name or "": count for name, count in session.execute(query)}


def dashboard(sessions: sessionmaker, directory: Directory, *, now: datetime, timezone: str,
              count: int = 6) -> list[DashboardRow]:
    """The dashboard's rows: each month (newest first), each department with any message or case in it."""
    rows: list[DashboardRow] = []
    for period in months(now, timezone, count):
        if period.start >= period.end:
            continue
        report = build_report(sessions, period=period, now=now)
        answers = _assistant_answers(sessions, period)
        label = f"{period.start.astimezone(ZoneInfo(timezone)):%Y-%m}"
        for department in directory.departments:
            figures: dict[str, Any] = report["by_department"].get(department.code, {})
            assistant = answers.get(department.name, 0) + answers.get(department.code, 0)
            received = figures.get("received", 0) + assistant
            cases = figures.get("cases", 0)
            if not received and not cases:
                continue
            counted = figures.get("counted", 0)
            answered = figures.get("cases_answered", 0)
            rate, median = figures.get("delay_rate"), figures.get("first_response_p50_hours")
            rows.append(DashboardRow(
                month=label, department=department.name, received=count_cell(received),
                answered_by_assistant=count_cell(assistant), cases=count_cell(cases),
                answered_in_time=count_cell(figures.get("answered_in_time", 0)),
                delay_rate=(WITHHELD if counted < SMALL else "-" if rate is None else f"{100 * rate:.1f} %"),
                median_response_hours=(WITHHELD if answered < SMALL else "-" if median is None else f"{median:.1f}")))
    return rows
