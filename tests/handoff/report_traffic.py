"""A week of traffic counted by hand, and the week before it, for the report's tests (handoff and desk).

The week is [2026-11-30 12:00, 2026-12-07 12:00) UTC, the report's `now` its end; the previous week ends where it
starts. What each figure must be is written beside the rows that make it, and in EXPECTED.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.orm import sessionmaker

from handoff.models import Case, CaseState, CaseStatus, MessageDecision
from knowledge_base.feedback import FeedbackRow

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
WEEK_START = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def at(day: int, hour: int, minute: int = 0, month: int = 12) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


# (id, department, sla, service_code, requested, expected, answered, closed)
CASES = (
    ("R1", "public-works", "simple", "pothole", at(1, 10), at(1, 13), at(1, 12), at(2, 10)),       # 2 h, in time; 24 h
    ("R2", "public-works", "review", "pothole", at(2, 10), at(5, 10), at(6, 10), None),            # 96 h, late
    ("E1", "public-works", "emergency", None, at(3, 10), at(3, 11), at(3, 10, 30), None),          # 0.5 h, in time
    ("W1", "waste", "simple", "bins_missed", at(4, 10), at(4, 13), None, None),             # overdue now
    ("P1", "public-works", "simple", "pothole", at(25, 10, month=11), at(25, 13, month=11),        # previous week:
     at(25, 14, month=11), at(26, 10, month=11)),                                           # 4 h, late
)

# (when, channel, route, entry, case): 12 messages this week, 3 the week before
MESSAGES = (
    (at(1, 9), "telegram", "answer", "bins", None),
    (at(1, 9, 5), "telegram", "answer", "bins", None),
    (at(2, 9), "telegram", "answer", "parking", None),
    (at(2, 9, 5), "telegram", "clarify", None, None),
    (at(2, 9, 10), "telegram", "smalltalk", None, None),
    (at(1, 10), "web", "case", None, "R1"),
    (at(2, 10), "web", "case", None, "R2"),
    (at(3, 10), "web", "emergency", None, "E1"),
    (at(3, 12), "web", "out_of_scope", None, None),
    (at(3, 13), "web", "status", None, None),
    (at(4, 10), "x", "case", None, "W1"),
    (at(4, 11), "x", "answer", "bins", None),
    # the previous week
    (at(25, 9, month=11), "telegram", "answer", "parking", None),
    (at(25, 9, 30, month=11), "telegram", "answer", "library_hours", None),
    (at(25, 10, month=11), "web", "case", None, "P1"),
    # after the week: not counted
    (at(7, 12), "web", "answer", "bins", None),
)

# (when, helpful): two helpful and one unhelpful vote this week
VOTES = ((at(1, 9, 1), True), (at(1, 9, 6), True), (at(2, 9, 1), False))

EXPECTED = {
    "received": 12, "auto_answered": 4, "clarified": 1, "handed_off": 3, "emergencies": 1, "out_of_scope": 1,
    "smalltalk": 1, "status_questions": 1, "handled_without_staff_rate": 0.6667,
    "cases_opened": 4, "cases_answered": 3, "cases_closed": 1, "cases_reopened": 0,
    "cases_by_sla": {"emergency": 1, "review": 1, "simple": 2},
    "first_response_p50_hours": 2.0, "first_response_p90_hours": 96.0, "resolution_p50_hours": 24.0,
    "answered_in_time": 2, "delay_rate": 0.5, "overdue": 1,
    "helpful_votes": 2, "unhelpful_votes": 1, "confirmed_accuracy": 0.6667,
}
EXPECTED_PREVIOUS = {"received": 3, "auto_answered": 2, "handed_off": 1, "cases_opened": 1, "delay_rate": 1.0,
                     "first_response_p50_hours": 4.0, "resolution_p50_hours": 24.0}
EXPECTED_BY_CHANNEL = {"telegram": 5, "web": 5, "x": 2}
EXPECTED_BY_DEPARTMENT = {
    "public-works": {"received": 3, "cases": 3, "answered_in_time": 2, "delay_rate": 0.3333,
                     "first_response_p50_hours": 2.0, "overdue": 0},
    "waste": {"received": 1, "cases": 1, "answered_in_time": 0, "delay_rate": 1.0, "first_response_p50_hours": None,
              "overdue": 1},
}


def seed(sessions: sessionmaker) -> None:
    """Write the cases, decisions and votes above."""
    with sessions.begin() as session:
        ids = {}
        for code, department, sla, service, requested, expected, answered, closed in CASES:
            case = Case(service_request_id=code, service_code=service, description=f"case {code}",
                        agency_responsible=department, sla=sla, requested_datetime=requested,
                        updated_datetime=requested, expected_datetime=expected, answered_at=answered,
                        closed_at=closed, is_emergency=sla == "emergency", channel="web",
                        conversation_id=f"conv-{code}",
                        status=CaseStatus.CLOSED if closed else CaseStatus.OPEN,
                        state=CaseState.CLOSED if closed else CaseState.ANSWERED if answered else CaseState.NEW)
            session.add(case)
            session.flush()
            ids[code] = case.id
        for number, (when, channel, route, entry, case_code) in enumerate(MESSAGES):
            session.add(MessageDecision(at=when, channel=channel, conversation_id=f"m{number}", text="…",
                                        intent=None, route=route, reason="test", entry_id=entry, confidence=None,
                                        case_id=ids[case_code] if case_code else None))
        for number, (when, helpful) in enumerate(VOTES):
            session.add(FeedbackRow(entry_id="bins", conversation_id=f"m{number}", channel="telegram",
                                    helpful=helpful, at=when))
