"""Reports for a period and a department or all: what citizens sent, what the assistant did with it, how the
departments answered, each figure beside the previous period's.

Every figure is an SQL aggregation (COUNT ... GROUP BY, percentiles by ORDER BY ... OFFSET on an index), never a
loop over rows in Python; revision 0016r adds the indexes they need. The delay rate is handoff/delay_rate.py's.

The seven outcomes of a message are its decision's route (handoff/decide.py): answer -> auto_answered, clarify ->
clarified, case -> handed_off, emergency -> emergencies, out_of_scope, smalltalk, status -> status_questions; they
add up to `received`. A message belongs to a department when its decision opened (or named) a case of that
department; `--department` keeps those only. `--account` keeps the messages of the account's conversations and the
cases written to it (handoff/account_scope.py). Topics and keywords, top, rising (hot) and falling (cold), are
handoff/trends.py's, read from what the desk's topic job stored (not narrowed to an account).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, func, or_, select
from sqlalchemy.orm import Session, sessionmaker

from handoff.account_scope import AccountScope
from handoff.delay_rate import delay_rate
from handoff.models import Case, CaseEvent, MessageDecision
from handoff.trends import trends
from knowledge_base.feedback import FeedbackRow

PERIODS = {"day": timedelta(days=1), "week": timedelta(days=7), "month": timedelta(days=30)}
OUTCOMES = {"answer": "auto_answered", "clarify": "clarified", "case": "handed_off", "emergency": "emergencies",
            "out_of_scope": "out_of_scope", "smalltalk": "smalltalk", "status": "status_questions"}
WITHOUT_STAFF = ("auto_answered", "clarified", "out_of_scope", "smalltalk", "status_questions")
COMPARED = ("received", *OUTCOMES.values(), "handled_without_staff_rate", "cases_opened", "cases_answered",
            "cases_closed", "cases_reopened", "delay_rate", "answered_in_time", "first_response_p50_hours",
            "first_response_p90_hours", "resolution_p50_hours", "resolution_p90_hours", "helpful_votes",
            "unhelpful_votes", "confirmed_accuracy")


@dataclass(frozen=True)
class Period:
    """[start, end): the report's period; the previous one is as long and ends where this one starts."""

    start: datetime
    end: datetime

    @property
    def previous(self) -> Period:
        return Period(start=self.start - (self.end - self.start), end=self.start)

    def label(self) -> dict[str, str]:
        return {"from": self.start.isoformat(), "to": self.end.isoformat()}


def period_for(*, now: datetime, period: str = "week", start: datetime | None = None,
               end: datetime | None = None) -> Period:
    """The last day, 7 days or 30 days up to `now`, unless `start`/`end` are given (either one: the other follows
    from the period's length)."""
    if period not in PERIODS:
        raise ValueError(f"period {period!r}: day, week or month")
    length = PERIODS[period]
    if start is not None and end is None:
        end = start + length
    end = (end or now).astimezone(UTC)
    start = (start or end - length).astimezone(UTC)
    if start >= end:
        raise ValueError("the period ends before it starts")
    return Period(start=start, end=end)


def _hours(session: Session, later: Any, earlier: Any) -> ColumnElement[Any]:
    """(later - earlier) in hours, in the database's own arithmetic."""
    if session.get_bind().dialect.name == "sqlite":
        return (func.julianday(later) - func.julianday(earlier)) * 24.0
    return func.extract("epoch", later - earlier) / 3600.0


def _percentiles(session: Session, values: Select[Any], shares: Sequence[float]) -> list[float | None]:
    """Nearest-rank percentiles of one numeric column, ordered and picked by the database."""
    inner = values.subquery()
    column = inner.c[0]
    count = session.scalar(select(func.count()).select_from(inner).where(column.is_not(None))) or 0
    found: list[float | None] = []
    for share in shares:
        if not count:
            found.append(None)
            continue
        rank = max(1, math.ceil(share * count)) - 1
        value = session.scalar(select(column).where(column.is_not(None)).order_by(column).offset(rank).limit(1))
        found.append(round(float(value), 2) if value is not None else None)
    return found


def _messages(period: Period, department: str | None, account: AccountScope | None) -> Select[str, str, int]:
    query = select(MessageDecision.route, MessageDecision.channel, func.count()).where(
        MessageDecision.at >= period.start, MessageDecision.at < period.end)
    if account is not None:
        query = query.where(account.conversations(MessageDecision.conversation_id))
    if department:
        query = query.join(Case, Case.id == MessageDecision.case_id).where(Case.agency_responsible == department)
    return query.group_by(MessageDecision.route, MessageDecision.channel)


def _cases_in(period: Period, department: str | None, column: Any = Case.requested_datetime,
              account: AccountScope | None = None) -> list[Any]:
    where: list[Any] = [column >= period.start, column < period.end]
    if department:
        where.append(Case.agency_responsible == department)
    if account is not None:
        where.append(account.cases())
    return where


def _overdue_now(now: datetime) -> ColumnElement[bool]:
    """No answer, not closed, past the deadline, not paused with time left (handoff/clock.py's OVERDUE)."""
    return and_(Case.answered_at.is_(None), Case.closed_at.is_(None), Case.expected_datetime < now,
                or_(Case.paused_at.is_(None), Case.paused_at > Case.expected_datetime))


def _figures(sessions: sessionmaker, session: Session, period: Period, *, now: datetime,
             department: str | None, account: AccountScope | None = None) -> dict[str, Any]:
    """The figures of one period."""
    figures: dict[str, Any] = {"period": period.label(), "received": 0, **dict.fromkeys(OUTCOMES.values(), 0)}
    by_channel: dict[str, dict[str, int]] = {}
    for route, channel, count in session.execute(_messages(period, department, account)):
        outcome = OUTCOMES.get(route)
        if outcome is None:  # a route this report does not know yet: still received, counted as out of scope
            outcome = "out_of_scope"
        figures["received"] += count
        figures[outcome] += count
        row = by_channel.setdefault(channel, {"received": 0, **dict.fromkeys(OUTCOMES.values(), 0)})
        row["received"] += count
        row[outcome] += count
    figures["by_channel"] = dict(sorted(by_channel.items()))
    received = figures["received"]
    figures["handled_without_staff_rate"] = (
        round(sum(figures[key] for key in WITHOUT_STAFF) / received, 4) if received else None)

    # cases: opened in the period, by deadline class and service category; answered, closed, reopened in it
    opened = _cases_in(period, department, account=account)
    figures["cases_opened"] = session.scalar(select(func.count()).select_from(Case).where(*opened)) or 0
    figures["cases_by_sla"] = {sla: count for sla, count in session.execute(
        select(Case.sla, func.count()).where(*opened).group_by(Case.sla).order_by(Case.sla))}
    figures["cases_by_service"] = {code or "": count for code, count in session.execute(
        select(Case.service_code, func.count()).where(*opened).group_by(Case.service_code)
        .order_by(func.count().desc(), Case.service_code))}
    figures["cases_answered"] = session.scalar(select(func.count()).select_from(Case).where(
        *_cases_in(period, department, Case.answered_at, account))) or 0
    figures["cases_closed"] = session.scalar(select(func.count()).select_from(Case).where(
        *_cases_in(period, department, Case.closed_at, account))) or 0
    reopened = select(func.count()).select_from(CaseEvent).where(
        CaseEvent.kind == "reopened", CaseEvent.at >= period.start, CaseEvent.at < period.end)
    if department:
        reopened = reopened.join(Case, Case.id == CaseEvent.case_id).where(Case.agency_responsible == department)
    if account is not None:
        reopened = reopened.where(CaseEvent.case_id.in_(select(Case.id).where(account.cases())))
    figures["cases_reopened"] = session.scalar(reopened) or 0

    # response times of the cases opened in the period (wall clock, hours)
    first = _hours(session, Case.answered_at, Case.requested_datetime)
    figures["first_response_p50_hours"], figures["first_response_p90_hours"] = _percentiles(
        session, select(first).where(*opened, Case.answered_at.is_not(None)), (0.5, 0.9))
    resolution = _hours(session, Case.closed_at, Case.requested_datetime)
    figures["resolution_p50_hours"], figures["resolution_p90_hours"] = _percentiles(
        session, select(resolution).where(*opened, Case.closed_at.is_not(None)), (0.5, 0.9))

    # the delay rate, as handoff/delay_rate.py counts it, of the cases opened in the period
    rates = delay_rate(sessions, now=now, start=period.start, end=period.end,
                       departments=[department] if department else (),
                       where=[account.cases()] if account is not None else ())
    counted = sum(rate.counted for rate in rates.values())
    figures["answered_in_time"] = sum(rate.answered_in_time for rate in rates.values())
    figures["delay_rate"] = round(sum(rate.delayed for rate in rates.values()) / counted, 4) if counted else None

    # the assistant's confirmed accuracy: the votes given in the period
    votes = select(FeedbackRow.helpful, func.count()).where(FeedbackRow.at >= period.start,
                                                           FeedbackRow.at < period.end)
    if department:
        votes = votes.where(FeedbackRow.conversation_id.in_(
            select(Case.conversation_id).where(Case.agency_responsible == department)))
    if account is not None:
        votes = votes.where(account.conversations(FeedbackRow.conversation_id))
    tally = {bool(helpful): count for helpful, count in session.execute(votes.group_by(FeedbackRow.helpful))}
    figures["helpful_votes"], figures["unhelpful_votes"] = tally.get(True, 0), tally.get(False, 0)
    voted = figures["helpful_votes"] + figures["unhelpful_votes"]
    figures["confirmed_accuracy"] = round(figures["helpful_votes"] / voted, 4) if voted else None

    # per department: the cases opened in the period and the messages behind them
    departments: dict[str, dict[str, Any]] = {}
    case_counts = select(Case.agency_responsible, func.count(),
                         func.count(Case.answered_at)).where(*opened).group_by(Case.agency_responsible)
    for code, cases, answered in session.execute(case_counts):
        departments[code] = {"received": 0, "cases": cases, "cases_answered": answered}
    received_per = (select(Case.agency_responsible, func.count())
                    .select_from(MessageDecision).join(Case, Case.id == MessageDecision.case_id)
                    .where(MessageDecision.at >= period.start, MessageDecision.at < period.end)
                    .group_by(Case.agency_responsible))
    if department:
        received_per = received_per.where(Case.agency_responsible == department)
    if account is not None:
        received_per = received_per.where(account.conversations(MessageDecision.conversation_id))
    for code, count in session.execute(received_per):
        departments.setdefault(code, {"received": 0, "cases": 0, "cases_answered": 0})["received"] = count
    for code, figures_of in departments.items():
        rate = rates.get(code)
        figures_of["answered_in_time"] = rate.answered_in_time if rate else 0
        figures_of["counted"] = rate.counted if rate else 0  # the delay rate's denominator
        figures_of["delay_rate"] = round(rate.rate, 4) if rate and rate.rate is not None else None
        figures_of["first_response_p50_hours"], = _percentiles(session, select(first).where(
            *_cases_in(period, code, account=account), Case.answered_at.is_not(None)), (0.5,))
    figures["by_department"] = dict(sorted(departments.items()))
    return figures


def _change(now: Any, before: Any) -> Any:
    if isinstance(now, int | float) and isinstance(before, int | float) and not isinstance(now, bool):
        return round(now - before, 4)
    return None


def build_report(sessions: sessionmaker, *, period: Period, now: datetime,
                 department: str | None = None, account: AccountScope | None = None) -> dict[str, Any]:
    """The report of `period` (and `department`, else every one; and `account`, else every one), each figure beside
    the previous period's."""
    now = now.astimezone(UTC)
    with sessions() as session:
        current = _figures(sessions, session, period, now=now, department=department, account=account)
        previous = _figures(sessions, session, period.previous, now=now, department=department, account=account)
        overdue = select(func.count()).select_from(Case).where(_overdue_now(now))
        overdue_per = select(Case.agency_responsible, func.count()).where(_overdue_now(now))
        if department:
            overdue = overdue.where(Case.agency_responsible == department)
            overdue_per = overdue_per.where(Case.agency_responsible == department)
        if account is not None:
            overdue = overdue.where(account.cases())
            overdue_per = overdue_per.where(account.cases())
        overdue_now = session.scalar(overdue) or 0
        overdue_by_department: dict[str, int] = {code: count for code, count in session.execute(
            overdue_per.group_by(Case.agency_responsible))}
        open_gaps = session.scalar(select(func.count()).select_from(MessageDecision).where(
            MessageDecision.route == "case", MessageDecision.entry_id.is_(None),
            MessageDecision.case_id.in_(select(Case.id).where(Case.closed_at.is_(None), *(
                [Case.agency_responsible == department] if department else []), *(
                [account.cases()] if account is not None else []))))) or 0
    for code, row in current["by_department"].items():
        row["overdue"] = overdue_by_department.get(code, 0)
    for code, count in overdue_by_department.items():
        current["by_department"].setdefault(code, {"received": 0, "cases": 0, "cases_answered": 0,
                                                   "answered_in_time": 0, "counted": 0, "delay_rate": None,
                                                   "first_response_p50_hours": None, "overdue": count})
    current["by_department"] = dict(sorted(current["by_department"].items()))
    for channel, row in current["by_channel"].items():
        row["previous_received"] = previous["by_channel"].get(channel, {}).get("received", 0)
    report: dict[str, Any] = {
        **current,
        "department": department,
        "account": account.name if account is not None else None,
        "generated_at": now.isoformat(),
        "overdue": overdue_now,
        "open_gaps": open_gaps,
        **trends(sessions, start=period.start, end=period.end, department=department),
        "previous": {key: previous[key] for key in ("period", *COMPARED)},
        "change": {key: _change(current[key], previous[key]) for key in COMPARED},
    }
    return report


def _day(session: Session, column: Any) -> ColumnElement[Any]:
    """The UTC day of a timestamp, in the database's own functions."""
    if session.get_bind().dialect.name == "sqlite":
        return func.date(column)
    return func.to_char(column, "YYYY-MM-DD")


def daily_volume(sessions: sessionmaker, *, period: Period, department: str | None = None) -> list[dict[str, Any]]:
    """Per UTC day of the period: the messages received and those the assistant handled without staff."""
    without_staff = [route for route, outcome in OUTCOMES.items() if outcome in WITHOUT_STAFF]
    with sessions() as session:
        day = _day(session, MessageDecision.at)
        query = select(day, func.count(), func.count(case((MessageDecision.route.in_(without_staff), 1)))).where(
            MessageDecision.at >= period.start, MessageDecision.at < period.end)
        if department:
            query = query.join(Case, Case.id == MessageDecision.case_id).where(
                Case.agency_responsible == department)
        found = {str(d): (received, handled) for d, received, handled in session.execute(query.group_by(day))}
    days, moment = [], period.start
    while moment < period.end:
        key = moment.date().isoformat()
        received, handled = found.get(key, (0, 0))
        days.append({"day": key, "received": received, "without_staff": handled})
        moment += timedelta(days=1)
    return days


def response_by_class(sessions: sessionmaker, *, period: Period,
                      department: str | None = None) -> list[dict[str, Any]]:
    """Per deadline class of the cases opened in the period: the median and 90th-percentile first response against
    the median time the deadline allowed (hours, wall clock)."""
    with sessions() as session:
        opened = _cases_in(period, department)
        first = _hours(session, Case.answered_at, Case.requested_datetime)
        allowed = _hours(session, Case.expected_datetime, Case.requested_datetime)
        rows = []
        for sla in session.scalars(select(Case.sla).where(*opened).group_by(Case.sla).order_by(Case.sla)):
            p50, p90 = _percentiles(session, select(first).where(*opened, Case.sla == sla,
                                                                 Case.answered_at.is_not(None)), (0.5, 0.9))
            deadline, = _percentiles(session, select(allowed).where(*opened, Case.sla == sla), (0.5,))
            rows.append({"sla": sla, "first_response_p50_hours": p50, "first_response_p90_hours": p90,
                         "deadline_hours": deadline})
    return rows


def _responded_in_time() -> ColumnElement[bool]:
    return or_(Case.answered_at <= Case.expected_datetime, Case.closed_at <= Case.expected_datetime)


FIGURES = {
    "opened": "cases opened in the period",
    "answered_in_time": "answered in time (cases opened in the period)",
    "late": "answered after the deadline (cases opened in the period)",
    "overdue": "past the deadline and unanswered now",
    "answered": "answered in the period",
    "closed": "closed in the period",
}


def cases_behind(sessions: sessionmaker, *, figure: str, period: Period, now: datetime,
                 department: str | None = None, limit: int = 5000) -> list[Case]:
    """The cases behind one of the report's figures (FIGURES), oldest request first."""
    if figure not in FIGURES:
        raise ValueError(f"figure {figure!r}: one of {', '.join(FIGURES)}")
    where: list[Any] = {
        "opened": _cases_in(period, None),
        "answered_in_time": [*_cases_in(period, None), _responded_in_time()],
        "late": [*_cases_in(period, None), or_(Case.answered_at.is_not(None), Case.closed_at.is_not(None)),
                 or_(Case.answered_at.is_(None), Case.answered_at > Case.expected_datetime),
                 or_(Case.closed_at.is_(None), Case.closed_at > Case.expected_datetime)],
        "overdue": [_overdue_now(now.astimezone(UTC))],
        "answered": _cases_in(period, None, Case.answered_at),
        "closed": _cases_in(period, None, Case.closed_at),
    }[figure]
    if department:
        where.append(Case.agency_responsible == department)
    with sessions() as session:
        rows = list(session.scalars(select(Case).where(*where).order_by(Case.requested_datetime, Case.id)
                                    .limit(limit)))
        session.expunge_all()
    return rows


__all__ = ["COMPARED", "FIGURES", "OUTCOMES", "PERIODS", "Period", "build_report", "cases_behind", "daily_volume",
           "period_for", "response_by_class"]
