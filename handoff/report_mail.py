"""The report e-mails: the weekly report to each department head (Monday morning, city time) and the monthly one to
the supervisors (the 1st), queued in the one outbox as notices.

Each e-mail's idempotency key names its period (report:week:<department>:<first day>, report:month:<address>:<month>),
so whatever runs `queue_due_reports` (the desk's scheduler at the hour, and again at every start, to catch up a
missed hour) queues each report once: a restart never sends one twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import sessionmaker

from handoff.directory import Directory
from handoff.notices import BRAND, Notice
from handoff.report import OUTCOMES, Period, build_report
from outbox import store as outbox
from outbox.mail import CHANNEL, compose_text


def last_week(now: datetime, timezone: str, hour: int) -> Period:
    """The latest full week (Monday to Monday, city time) whose report is due by `now` (Monday at `hour`)."""
    zone = ZoneInfo(timezone)
    local = now.astimezone(zone)
    monday = datetime.combine(local.date() - timedelta(days=local.weekday()), time(), zone)
    if local < monday.replace(hour=hour):
        monday = datetime.combine(monday.date() - timedelta(days=7), time(), zone)
    start = datetime.combine(monday.date() - timedelta(days=7), time(), zone)
    return Period(start=start, end=monday)


def last_month(now: datetime, timezone: str, hour: int) -> Period:
    """The latest full calendar month (city time) whose report is due by `now` (the 1st at `hour`)."""
    zone = ZoneInfo(timezone)
    local = now.astimezone(zone)
    first = datetime.combine(local.date().replace(day=1), time(), zone)
    if local < first.replace(hour=hour):
        first = datetime.combine((first.date() - timedelta(days=1)).replace(day=1), time(), zone)
    start = datetime.combine((first.date() - timedelta(days=1)).replace(day=1), time(), zone)
    return Period(start=start, end=first)


def _value(value: Any) -> str:
    if value is None:
        return "-"
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _anything(report: dict[str, Any]) -> bool:
    """Whether the report has something to say: messages or cases in the period or the one before, or overdue
    cases. A department with nothing gets no e-mail."""
    return bool(report["received"] or report["cases_opened"] or report["previous"]["received"]
                or report["previous"]["cases_opened"] or report["overdue"])


def report_body(report: dict[str, Any], *, title: str, desk_url: str, why: str) -> str:
    """A report as plain text: each figure beside the previous period's, with the change."""
    previous, change = report["previous"], report["change"]
    lines = [title, ""]
    for key, label in (("received", "messages received"), *((k, k.replace("_", " ")) for k in OUTCOMES.values()),
                       ("handled_without_staff_rate", "handled without staff"), ("cases_opened", "cases opened"),
                       ("cases_answered", "cases answered"), ("answered_in_time", "answered in time"),
                       ("delay_rate", "delay rate"), ("first_response_p50_hours", "first response, median (h)"),
                       ("first_response_p90_hours", "first response, 90th percentile (h)")):
        lines.append(f"{label}: {_value(report[key])} (before: {_value(previous[key])}, change "
                     f"{_value(change[key])})")
    lines.append(f"overdue now: {report['overdue']}")
    if report["top_topics"]:
        lines += ["", "Top topics: " + ", ".join(f"{t['label']} ({t['count']})" for t in report["top_topics"][:5])]
    if report["rising_topics"]:
        lines.append("Hot topics: " + ", ".join(f"{t['label']} ({t['count']}, {t['previous']} before)"
                                                for t in report["rising_topics"][:5]))
    query = f"from={report['period']['from'][:10]}&to={report['period']['to'][:10]}"
    lines += ["", f"The report, its charts and the cases behind each figure: {desk_url}/reports?{query}", "",
              f"-- CityDesk. {why}"]
    return "\n".join(lines)


def queue_due_reports(sessions: sessionmaker, directory: Directory, *, now: datetime, timezone: str, hour: int,
                      supervisors: Sequence[str] = (), desk_url: str = "http://127.0.0.1:8000",
                      city_name: str = "the city") -> list[Notice]:
    """Queue the weekly report of each department (to its head) and the monthly one (to each supervisor) due by
    `now`, each once; the notices queued by this call."""
    notices: list[tuple[Notice, Period]] = []
    week = last_week(now, timezone, hour)
    zone = ZoneInfo(timezone)
    desk_url = desk_url.rstrip("/")
    for department in directory.departments:
        report = build_report(sessions, period=week, now=now, department=department.code)
        if not _anything(report):
            continue
        first = week.start.astimezone(zone).date()
        title = f"{city_name}: weekly report of {department.name}, week of {first.day} {first:%b %Y}"
        notices.append((Notice(key=f"report:week:{department.code}:{first.isoformat()}", to=department.head.email,
                               subject=f"{BRAND} Weekly report: {department.name}, week of {first.day} {first:%b %Y}",
                               body=report_body(report, title=title, desk_url=desk_url,
                                                why=f"You get this e-mail as head of {department.name}.")),
                        week))
    month = last_month(now, timezone, hour)
    label = f"{month.start.astimezone(zone):%B %Y}"
    monthly = build_report(sessions, period=month, now=now) if supervisors else None
    if monthly is not None and _anything(monthly):
        body = report_body(monthly, title=f"{city_name}: monthly report, all departments, {label}",
                           desk_url=desk_url, why="You get this e-mail as a supervisor of the desk.")
        for address in supervisors:
            notices.append((Notice(key=f"report:month:{address.lower()}:{month.start.astimezone(zone):%Y-%m}",
                                   to=address, subject=f"{BRAND} Monthly report: all departments, {label}",
                                   body=body), month))
    queued = []
    with sessions.begin() as session:
        for notice, _period in notices:
            row = outbox.enqueue_once(session, key=notice.key, channel=CHANNEL, conversation_id=notice.to,
                                      text=compose_text(notice.subject, notice.body), now=now)
            if row is not None:
                queued.append(notice)
    return queued
