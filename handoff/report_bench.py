"""The report benchmark: a year of generated traffic (messages and cases over every department), then the time of
the monthly all-departments report (handoff/report.py) on it. `citydesk bench report` runs it."""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert, text
from sqlalchemy.orm import sessionmaker

from handoff.models import Case, MessageDecision
from handoff.report import OUTCOMES, build_report, period_for

CHANNELS = ("telegram", "x", "web")
SLAS = {"simple": timedelta(hours=3), "review": timedelta(days=3), "policy": timedelta(days=5)}
BATCH = 20_000
YEAR = timedelta(days=365)


@dataclass(frozen=True)
class BenchResult:
    decisions: int
    cases: int
    generate_s: float
    report_s: float
    received: int
    cases_opened: int

    def as_dict(self) -> dict[str, float | int]:
        return {"decisions": self.decisions, "cases": self.cases, "generate_s": round(self.generate_s, 2),
                "report_s": round(self.report_s, 3), "month_received": self.received,
                "month_cases_opened": self.cases_opened}


def generate(sessions: sessionmaker, *, decisions: int, cases: int, departments: list[str], now: datetime,
             seed: int = 18) -> None:
    """`cases` cases and `decisions` messages (one per case, the rest routed otherwise) over the year to `now`."""
    rng = random.Random(seed)
    start = now - YEAR
    other_routes = [route for route in OUTCOMES if route not in ("case", "emergency")]
    requested_of: dict[int, datetime] = {}
    with sessions.begin() as session:
        for first in range(0, cases, BATCH):
            rows = []
            for number in range(first, min(cases, first + BATCH)):
                requested = start + timedelta(seconds=rng.uniform(0, YEAR.total_seconds()))
                sla = rng.choice(list(SLAS))
                expected = requested + SLAS[sla]
                answered = requested + SLAS[sla] * rng.uniform(0.1, 1.4) if rng.random() < 0.9 else None
                if answered is not None and answered > now:
                    answered = None
                requested_of[number + 1] = requested
                rows.append({"id": number + 1, "service_request_id": f"B-{number + 1:07d}",
                             "service_code": f"svc-{rng.randrange(40)}", "description": "generated",
                             "status": "open", "state": "answered" if answered else "new",
                             "agency_responsible": rng.choice(departments), "sla": sla,
                             "requested_datetime": requested, "updated_datetime": requested,
                             "expected_datetime": expected, "answered_at": answered, "closed_at": None,
                             "paused_seconds": 0.0, "is_emergency": False, "channel": rng.choice(CHANNELS),
                             "conversation_id": f"bench-{number}"})
            session.execute(insert(Case), rows)
        for first in range(0, decisions, BATCH):
            rows = []
            for number in range(first, min(decisions, first + BATCH)):
                if number < cases:
                    case_id = number + 1
                    at = requested_of.get(case_id) or start + timedelta(seconds=rng.uniform(0, YEAR.total_seconds()))
                    route, entry = "case", None
                else:
                    case_id, route = None, rng.choice(other_routes)
                    at = start + timedelta(seconds=rng.uniform(0, YEAR.total_seconds()))
                    entry = f"entry-{rng.randrange(300)}" if route == "answer" else None
                rows.append({"at": at, "channel": rng.choice(CHANNELS), "conversation_id": f"bench-{number}",
                             "text": "generated", "intent": None, "route": route, "reason": "bench",
                             "entry_id": entry, "confidence": None, "case_id": case_id})
            session.execute(insert(MessageDecision), rows)


def run(sessions: sessionmaker, *, decisions: int, cases: int, departments: list[str],
        now: datetime | None = None) -> BenchResult:
    """Generate the traffic, then time the monthly report of every department (best of three runs)."""
    now = now or datetime.now(UTC)
    began = time.perf_counter()
    generate(sessions, decisions=decisions, cases=min(cases, decisions), departments=departments, now=now)
    generated = time.perf_counter() - began
    # the planner's statistics, as a maintained database has them (PostgreSQL's autovacuum gathers them a while
    # after a bulk load: timed before that, the report is a third slower)
    with sessions.begin() as session:
        session.execute(text("ANALYZE"))
    period = period_for(now=now, period="month")
    timings, report = [], {}
    for _ in range(3):
        began = time.perf_counter()
        report = build_report(sessions, period=period, now=now)
        timings.append(time.perf_counter() - began)
    return BenchResult(decisions=decisions, cases=min(cases, decisions), generate_s=generated,
                       report_s=min(timings), received=report["received"], cases_opened=report["cases_opened"])
