"""The delay rate of each department, as Seoul's complaint system publishes it per district.

delay rate = (cases answered after their deadline + cases past their deadline and still unanswered)
             / (cases answered + cases past their deadline and still unanswered)

"Answered" is the first answer the citizen received (or the closing of a case without one, which ends the
department's obligation too); a case waiting for the citizen with time left is neither late nor counted; one still
within its deadline is not counted yet. The clock's rules are handoff/clock.py's (deadline_state), counted here in SQL.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, case, func, not_, select
from sqlalchemy.orm import sessionmaker

from handoff.models import Case


@dataclass(frozen=True)
class DelayRate:
    """One department's figures over the cases requested in the period."""

    department: str
    answered_in_time: int
    answered_late: int
    overdue_unanswered: int

    @property
    def counted(self) -> int:
        """Cases answered, or past their deadline: the denominator."""
        return self.answered_in_time + self.answered_late + self.overdue_unanswered

    @property
    def delayed(self) -> int:
        return self.answered_late + self.overdue_unanswered

    @property
    def rate(self) -> float | None:
        """The share of counted cases that were late; None when no case counts yet."""
        return self.delayed / self.counted if self.counted else None


def delay_rate(sessions: sessionmaker, *, now: datetime, start: datetime | None = None, end: datetime | None = None,
               departments: Sequence[str] = (),
               where: Sequence[ColumnElement[bool]] = ()) -> dict[str, DelayRate]:
    """The delay rate per department (code) of the cases requested in [start, end), as it stands at `now`.

    `departments`: only these (an empty list: every department with a case in the period); `where`: only the cases
    that meet these conditions too (an account's, handoff/account_scope.py). One grouped query that reads revision
    0016r's covering index (requested, department and the clock's columns); the states are deadline_state's, in SQL.
    """
    # the first response: the answer, or the closing without one, whichever came first
    responded = case((Case.answered_at.is_(None), Case.closed_at), (Case.closed_at.is_(None), Case.answered_at),
                     (Case.answered_at <= Case.closed_at, Case.answered_at), else_=Case.closed_at)
    paused_in_time = and_(Case.paused_at.is_not(None), Case.paused_at <= Case.expected_datetime)
    met = responded.is_not(None) & (responded <= Case.expected_datetime)
    missed = responded.is_not(None) & (responded > Case.expected_datetime)
    overdue = responded.is_(None) & not_(paused_in_time) & (Case.expected_datetime < now)
    query = (select(Case.agency_responsible, *(func.coalesce(func.sum(case((state, 1), else_=0)), 0)
                                              for state in (met, missed, overdue)))
             .group_by(Case.agency_responsible).order_by(Case.agency_responsible))
    if start is not None:
        query = query.where(Case.requested_datetime >= start)
    if end is not None:
        query = query.where(Case.requested_datetime < end)
    if departments:
        query = query.where(Case.agency_responsible.in_(departments))
    if where:
        query = query.where(*where)
    with sessions() as session:
        return {department: DelayRate(department=department, answered_in_time=int(in_time), answered_late=int(late),
                                      overdue_unanswered=int(unanswered))
                for department, in_time, late, unanswered in session.execute(query)}
