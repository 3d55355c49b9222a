"""The fair clock: business hours across weekends and public holidays, the pause while the city waits for the
citizen, a deadline met by the answer whatever the case's later state, and the delay rate per department."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from handoff.clock import (
    DeadlineState,
    OfficeHours,
    WorkingCalendar,
    add_working_time,
    city_calendar,
    deadline_state,
    load_holidays,
    working_time_between,
)
from handoff.deadlines import expected_datetime
from handoff.delay_rate import delay_rate
from handoff.directory import SLA, default_directory
from handoff.models import Case, Role
from handoff.routing import Assignment
from handoff.service import Actor, CaseDesk
from tests.handoff.conftest import CITY_TIMEZONE, FakeClock
from tests.transcripts.conftest import writer_for

CITY = ZoneInfo(CITY_TIMEZONE)
OFFICE = OfficeHours.parse("Mon-Fri 08:00-17:00")
US = city_calendar(CITY_TIMEZONE, "US")
NO_HOLIDAYS = WorkingCalendar(CITY_TIMEZONE)
PERMITS = Actor("pat", Role.STAFF, "permits")  # permits works Mon-Fri 08:00-17:00 (handoff/departments.yml)
ROADS = Actor("rosa", Role.STAFF, "public-works")  # public works: around the clock


def city(day: int, hour: int, minute: int = 0, month: int = 11) -> datetime:
    """A moment in November 2026, city time (Mon 23, Thu 26 is Thanksgiving, Sat 28, Sun 29)."""
    return datetime(2026, month, day, hour, minute, tzinfo=CITY)


def test_office_hours_are_read_from_the_directory_file_form():
    assert OfficeHours.parse("Mon-Fri 08:00-17:00") == OfficeHours(frozenset(range(5)), OFFICE.start, OFFICE.end)
    assert OfficeHours.parse("Sat 09:00-13:00").days == frozenset({5})
    assert OfficeHours.parse("Fri-Mon 10:00-14:00").days == frozenset({4, 5, 6, 0})
    for bad in ("weekdays 8-5", "Mon-Fri 17:00-08:00", "Mon-Xyz 08:00-17:00"):
        with pytest.raises(ValueError, match="office hours"):
            OfficeHours.parse(bad)


def test_a_simple_case_on_friday_afternoon_is_due_on_monday_morning():
    # 2 office hours on Friday (15:00-17:00), the third on Monday from 08:00
    due = expected_datetime(city(20, 15), SLA.SIMPLE, CITY_TIMEZONE, office_hours=OFFICE, calendar=US)
    assert due == city(23, 9).astimezone(UTC)


def test_a_simple_case_sent_on_saturday_counts_from_monday_opening():
    due = expected_datetime(city(21, 22, 30), SLA.SIMPLE, CITY_TIMEZONE, office_hours=OFFICE, calendar=US)
    assert due == city(23, 11).astimezone(UTC)


def test_thanksgiving_is_a_day_off_with_the_us_holidays():
    # Wednesday 16:00: one hour on Wednesday, Thanksgiving (Thu 26) off, two hours on Friday morning
    due = expected_datetime(city(25, 16), SLA.SIMPLE, CITY_TIMEZONE, office_hours=OFFICE, calendar=US)
    assert due == city(27, 10).astimezone(UTC)
    without_holidays = expected_datetime(city(25, 16), SLA.SIMPLE, CITY_TIMEZONE, office_hours=OFFICE,
                                         calendar=NO_HOLIDAYS)
    assert without_holidays == city(26, 10).astimezone(UTC)


def test_a_regional_holiday_counts_only_with_its_region():
    lincolns_birthday = datetime(2026, 2, 12).date()  # a New York state holiday, not a federal one
    assert lincolns_birthday in load_holidays("US", "NY")
    assert lincolns_birthday not in load_holidays("US")
    assert lincolns_birthday not in load_holidays("")
    with pytest.raises(ValueError, match="knows no country 'XX'"):
        load_holidays("XX")


def test_review_and_policy_cases_and_departments_without_office_hours_count_real_time():
    friday = city(20, 15)
    assert expected_datetime(friday, SLA.SIMPLE, CITY_TIMEZONE) == friday.astimezone(UTC) + timedelta(hours=3)
    assert expected_datetime(friday, SLA.REVIEW, CITY_TIMEZONE, office_hours=OFFICE, calendar=US) == \
        city(23, 15).astimezone(UTC)


def test_working_time_between_two_moments_skips_nights_weekends_and_holidays():
    assert working_time_between(city(25, 16), city(27, 10), hours=OFFICE, calendar=US) == timedelta(hours=3)
    assert working_time_between(city(27, 10), city(25, 16), hours=OFFICE, calendar=US) == -timedelta(hours=3)
    assert working_time_between(city(21, 9), city(22, 20), hours=OFFICE, calendar=US) == timedelta(0)
    assert add_working_time(city(20, 16, 30), timedelta(hours=1), hours=OFFICE, calendar=US) == \
        city(23, 8, 30).astimezone(UTC)


def test_deadline_state_met_missed_overdue_paused_due():
    expected = city(23, 12)

    def state(now: datetime, **fields: datetime) -> DeadlineState:
        values: dict = {"answered_at": None, "closed_at": None, "paused_at": None, **fields}
        return deadline_state(expected=expected, now=now, **values).state

    assert state(city(23, 11)) == DeadlineState.DUE
    assert state(city(23, 13)) == DeadlineState.OVERDUE
    # answered in time and left open for days: met, never overdue
    assert state(city(30, 13), answered_at=city(23, 11)) == DeadlineState.MET
    assert state(city(30, 13), answered_at=city(23, 12, 1)) == DeadlineState.MISSED
    assert state(city(30, 13), closed_at=city(23, 10)) == DeadlineState.MET
    # waiting for the citizen with time left: the clock stands still, however long they take
    assert state(city(30, 13), paused_at=city(23, 11)) == DeadlineState.PAUSED
    # asked after the deadline: still overdue
    assert state(city(30, 13), paused_at=city(23, 13)) == DeadlineState.OVERDUE


def open_case(cases: CaseDesk, department: str, sla: SLA = SLA.SIMPLE, conversation_id: str = "web-clock"):
    return cases.open_case(description="What permit do I need for a shed?", channel="web",
                           conversation_id=conversation_id, sla=sla,
                           assignment=Assignment(cases.directory.department(department), "test"))


@pytest.fixture
def city_clock() -> FakeClock:
    return FakeClock(city(25, 9).astimezone(UTC))  # the Wednesday before Thanksgiving, 9:00 AM


@pytest.fixture
def cases(sessions, city_clock) -> CaseDesk:
    return CaseDesk(sessions, default_directory(), CITY_TIMEZONE, transcript=writer_for(sessions, clock=city_clock),
                    clock=city_clock, calendar=US)


def test_the_desk_gives_a_simple_case_of_an_office_hours_department_business_hours(cases, city_clock):
    city_clock.now = city(25, 16).astimezone(UTC)
    assert open_case(cases, "permits").expected_datetime == city(27, 10).astimezone(UTC)
    assert open_case(cases, "public-works").expected_datetime == city(25, 19).astimezone(UTC)


def test_the_clock_stops_while_the_case_waits_for_the_citizen_and_resumes_with_the_time_left(cases, city_clock):
    case = open_case(cases, "permits")  # Wed 9:00, due Wed 12:00
    assert case.expected_datetime == city(25, 12).astimezone(UTC)
    city_clock.now = city(25, 10).astimezone(UTC)
    cases.ask_details(service_request_id=case.service_request_id, actor=PERMITS, text="Where is the shed going?")
    # the old deadline passes while the citizen is silent: paused, neither overdue nor escalated
    city_clock.now = city(27, 15).astimezone(UTC)
    waiting = cases.get(case.service_request_id)
    assert (waiting.state, cases.clock(waiting).state) == ("waiting_citizen", DeadlineState.PAUSED)
    assert cases.clock(waiting).paused_for == timedelta(days=2, hours=5)
    assert cases.escalate_overdue() == []
    assert cases.waiting_for_citizen("web-clock").service_request_id == case.service_request_id
    # Friday 15:00 the citizen replies: 2 working hours were left; Friday 15:00-17:00
    resumed = cases.citizen_replied(service_request_id=case.service_request_id, text="In the back garden")
    assert resumed.state == "new"
    assert resumed.paused_at is None and resumed.paused_seconds == timedelta(days=2, hours=5).total_seconds()
    assert resumed.expected_datetime == city(27, 17).astimezone(UTC)
    assert (resumed.events[-1].kind, resumed.events[-1].actor, resumed.events[-1].text) == (
        "citizen_replied", "citizen", "In the back garden")
    assert cases.waiting_for_citizen("web-clock") is None
    city_clock.now = city(27, 17, 1).astimezone(UTC)
    assert cases.clock(cases.get(case.service_request_id)).state == DeadlineState.OVERDUE
    assert [c.service_request_id for c in cases.escalate_overdue()] == [case.service_request_id]


def test_a_case_answered_in_time_but_left_open_is_not_overdue_nor_escalated(cases, city_clock):
    case = open_case(cases, "public-works")  # due 12:00
    city_clock.advance(hours=2)
    cases.reply(service_request_id=case.service_request_id, actor=ROADS, text="A crew comes on Friday.")
    city_clock.advance(days=3)
    answered = cases.get(case.service_request_id)
    assert (answered.status, answered.state) == ("open", "answered")
    assert answered.answered_at == city(25, 11).astimezone(UTC)
    assert cases.clock(answered).state == DeadlineState.MET
    assert cases.escalate_overdue() == []
    # a second answer does not move the first
    cases.reply(service_request_id=case.service_request_id, actor=ROADS, text="The crew was there.")
    assert cases.get(case.service_request_id).answered_at == city(25, 11).astimezone(UTC)


def test_an_answer_after_the_deadline_is_missed_and_the_unanswered_case_was_escalated(cases, city_clock):
    case = open_case(cases, "public-works")
    city_clock.advance(hours=4)
    assert [c.service_request_id for c in cases.escalate_overdue()] == [case.service_request_id]
    cases.reply(service_request_id=case.service_request_id, actor=ROADS, text="Sorry for the wait.")
    assert cases.clock(cases.get(case.service_request_id)).state == DeadlineState.MISSED


def test_delay_rate_counts_late_answers_and_overdue_unanswered_over_answered_or_overdue(cases, city_clock):
    start = city_clock.now
    in_time, late, unanswered, also_unanswered, waiting = (
        open_case(cases, "public-works", conversation_id=f"web-{n}") for n in range(5))
    open_case(cases, "public-works", SLA.POLICY, conversation_id="web-policy")  # due in 5 days: not counted yet
    library = open_case(cases, "library", conversation_id="web-library")
    city_clock.advance(hours=1)
    cases.reply(service_request_id=in_time.service_request_id, actor=ROADS, text="Done.")
    cases.ask_details(service_request_id=waiting.service_request_id, actor=ROADS, text="Which corner?")
    city_clock.advance(hours=3)  # every simple case is now past its deadline
    cases.reply(service_request_id=late.service_request_id, actor=ROADS, text="Done, late.")
    cases.reply(service_request_id=library.service_request_id, actor=Actor("lia", Role.STAFF, "library"),
                text="Late too.")
    cases.close(service_request_id=also_unanswered.service_request_id, actor=ROADS)  # closed late, unanswered
    rates = delay_rate(cases.sessions, now=cases.now(), start=start)
    works = rates["public-works"]
    # the case waiting for the citizen (time left) and the policy case within its 5 days are not counted
    assert (works.answered_in_time, works.answered_late, works.overdue_unanswered) == (1, 2, 1)
    assert (works.counted, works.delayed) == (4, 3) and works.rate == pytest.approx(3 / 4)
    assert unanswered.answered_at is None
    assert (rates["library"].rate, rates["library"].counted) == (1.0, 1)
    assert set(delay_rate(cases.sessions, now=cases.now(), start=start, departments=["library"])) == {"library"}
    assert delay_rate(cases.sessions, now=cases.now(), end=start) == {}


def test_no_counted_case_has_no_rate(cases):
    open_case(cases, "public-works")
    assert delay_rate(cases.sessions, now=cases.now())["public-works"].rate is None


def clock_grid(sessions, now: datetime) -> None:
    """Stored cases with every combination of answer, closing and pause before or after their deadline, some of it
    past `now` and some not: one department per deadline."""
    moments = {"none": None, "early": timedelta(hours=-1), "late": timedelta(hours=1)}
    number = 0
    with sessions.begin() as session:
        for department, expected in (("past", now - timedelta(hours=2)), ("future", now + timedelta(hours=2))):
            for answered, closed, paused in itertools.product(moments.values(), repeat=3):
                number += 1
                session.add(Case(service_request_id=f"CD-GRID-{number}", description="grid", status="open",
                                 state="new", agency_responsible=department, sla="simple", channel="web",
                                 conversation_id=f"web-grid-{number}", requested_datetime=expected - timedelta(1),
                                 updated_datetime=now, expected_datetime=expected,
                                 answered_at=expected + answered if answered is not None else None,
                                 closed_at=expected + closed if closed is not None else None,
                                 paused_at=expected + paused if paused is not None else None))


def test_the_delay_rates_sql_counts_each_case_as_the_clock_reads_it(cases):
    assert_delay_rate_reads_the_clock(cases.sessions, cases.now())


def assert_delay_rate_reads_the_clock(sessions, now: datetime) -> None:
    """On `clock_grid`'s cases, the delay rate's query counts each case as deadline_state reads it (tests/postgresql
    runs it on PostgreSQL)."""
    clock_grid(sessions, now)
    expected: dict[str, dict[DeadlineState, int]] = {}
    with sessions() as session:
        for case in session.scalars(select(Case).where(Case.service_request_id.like("CD-GRID-%"))):
            state = deadline_state(expected=case.expected_datetime, now=now, answered_at=case.answered_at,
                                   closed_at=case.closed_at, paused_at=case.paused_at).state
            tally = expected.setdefault(case.agency_responsible, dict.fromkeys(DeadlineState, 0))
            tally[state] += 1
    rates = delay_rate(sessions, now=now, departments=["past", "future"])
    assert {code: (r.answered_in_time, r.answered_late, r.overdue_unanswered) for code, r in rates.items()} == {
        code: (t[DeadlineState.MET], t[DeadlineState.MISSED], t[DeadlineState.OVERDUE])
        for code, t in expected.items()}
    assert rates["past"].overdue_unanswered == 2  # neither answered nor closed; not paused, or paused late
