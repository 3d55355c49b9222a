"""The delay rate of each department, as Seoul's complaint system publishes it per district.

delay rate = (cases answered after their deadline + cases past their deadline and still unanswered)
             / (cases answered + cases past their deadline and still unanswered)

"Answered" is the first answer the citizen received (or the closing of a case without one, which ends the
department's obligation too); a case waiting for the citizen with time left is neither late nor counted; one still
within its deadline is not counted yet. The clock's rules are handoff/clock.py's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import sessionmaker

from handoff.clock import DeadlineState, deadline_state
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
    that meet these conditions too (an account's, handoff/account_scope.py).
    """
    query = select(Case.agency_responsible, Case.expected_datetime, Case.answered_at, Case.closed_at, Case.paused_at)
    if start is not None:
        query = query.where(Case.requested_datetime >= start)
    if end is not None:
        query = query.where(Case.requested_datetime < end)
    if departments:
        query = query.where(Case.agency_responsible.in_(departments))
    if where:
        query = query.where(*where)
    counts: dict[str, dict[DeadlineState, int]] = {}
    with sessions() as session:
        for department, expected, answered_at, closed_at, paused_at in session.execute(query):
            state = deadline_state(expected=expected, now=now, answered_at=answered_at, closed_at=closed_at,
                                   paused_at=paused_at).state
            tally = counts.setdefault(department, dict.fromkeys(DeadlineState, 0))
            tally[state] += 1
    return {department: DelayRate(department=department, answered_in_time=tally[DeadlineState.MET],
                                  answered_late=tally[DeadlineState.MISSED],
                                  overdue_unanswered=tally[DeadlineState.OVERDUE])
            for department, tally in sorted(counts.items())}
