"""CaseDesk on a real migrated SQLite file: the procedure's states, history, outbox, isolation, escalation, and the
records cases write into the citizen's conversation."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from handoff.directory import SLA, default_directory
from handoff.models import Case
from handoff.routing import route_case
from handoff.service import MAX_STAFF_TEXT_CHARS, SYSTEM, Actor, CaseDesk, CaseError
from outbox.store import mark_fetched, waiting_for
from tests.handoff.conftest import CITY_TIMEZONE, START, FakeClock
from tests.transcripts.conftest import writer_for
from transcripts.chain import verify
from transcripts.models import TranscriptRecord
from transcripts.writer import TranscriptWriter

CITY_ZONE = ZoneInfo(CITY_TIMEZONE)

DIRECTORY = default_directory()
ROADS = Actor("rosa", role="staff", department="public-works")
WASTE = Actor("wes", role="staff", department="waste")
SUPERVISOR = Actor("sam", role="supervisor")
CONVERSATION = "web-3f2a"


def open_pothole(desk: CaseDesk, **fields) -> Case:
    pothole = DIRECTORY.category("pothole")
    values = dict(description="Huge pothole outside 14 Elm St", channel="web", conversation_id=CONVERSATION,
                  sla=SLA.SIMPLE, assignment=route_case(directory=DIRECTORY, category=pothole), category=pothole,
                  address="14 Elm St")
    return desk.open_case(**{**values, **fields})


def kinds(case: Case) -> list[str]:
    return [event.kind for event in case.events]


def test_open_case_numbers_the_case_and_keeps_every_field(desk):
    case = open_pothole(desk, lat=42.01, long=-71.5, district="North",
                        contact={"email": "ann@example.org", "first_name": "Ann", "last_name": "Lee",
                                 "phone": "555-0100"})
    assert re.fullmatch(r"CD-2026-\d{6}", case.service_request_id)
    assert case.service_request_id == f"CD-2026-{case.id:06d}"
    stored = desk.get(case.service_request_id.lower())
    assert (stored.service_code, stored.service_name, stored.description) == (
        "pothole", "Pothole or damaged road", "Huge pothole outside 14 Elm St")
    assert (stored.status, stored.state, stored.status_notes, stored.assignee) == ("open", "new", None, None)
    assert (stored.agency_responsible, stored.sla, stored.routing_reason) == ("public-works", "simple",
                                                                             "category pothole")
    assert stored.requested_datetime == START
    assert stored.updated_datetime == START
    assert stored.expected_datetime == START + timedelta(hours=3)
    assert (stored.escalated_at, stored.is_emergency) == (None, False)
    assert (stored.channel, stored.conversation_id) == ("web", CONVERSATION)
    assert (stored.address, stored.district, stored.lat, stored.long) == ("14 Elm St", "North", 42.01, -71.5)
    assert (stored.email, stored.first_name, stored.last_name, stored.phone) == (
        "ann@example.org", "Ann", "Lee", "555-0100")
    [opened] = stored.events
    assert (opened.kind, opened.actor, opened.at, opened.text) == ("opened", SYSTEM.username, START, None)
    assert opened.data == {"department": "public-works", "sla": "simple", "reason": "category pothole"}
    assert waiting_for(desk.sessions, channel="web", conversation_id=CONVERSATION) == []


def test_case_numbers_count_up(desk):
    first, second = open_pothole(desk), open_pothole(desk)
    assert int(second.service_request_id[-6:]) == int(first.service_request_id[-6:]) + 1


def test_the_case_number_carries_the_city_year(sessions):
    new_years_eve = datetime(2027, 1, 1, 3, 0, tzinfo=UTC)  # 10:00 PM on 31 December in the city
    desk = CaseDesk(sessions, DIRECTORY, CITY_TIMEZONE, transcript=writer_for(sessions), clock=FakeClock(new_years_eve))
    assert open_pothole(desk).service_request_id.startswith("CD-2026-")


def test_datetimes_read_back_are_aware_utc_whatever_zone_the_clock_gives(sessions):
    local_clock = FakeClock(START.astimezone(CITY_ZONE))
    desk = CaseDesk(sessions, DIRECTORY, CITY_TIMEZONE, transcript=writer_for(sessions, clock=local_clock),
                    clock=local_clock)
    case = desk.get(open_pothole(desk).service_request_id)
    assert case.requested_datetime == START
    assert case.requested_datetime.utcoffset() == timedelta(0)
    assert case.expected_datetime == START + timedelta(hours=3)
    # the overdue check compares instants, not wall clocks
    local_clock.advance(hours=3)
    assert desk.escalate_overdue() == []
    local_clock.advance(seconds=1)
    assert [c.service_request_id for c in desk.escalate_overdue()] == [case.service_request_id]


def test_a_case_needs_a_description(desk):
    with pytest.raises(CaseError, match="a case needs a description"):
        open_pothole(desk, description="   ")


def test_claim_reply_ask_details_and_close_move_the_case_and_keep_its_history(desk, clock):
    number = open_pothole(desk).service_request_id
    clock.advance(minutes=10)
    claimed = desk.claim(service_request_id=number, actor=ROADS)
    assert (claimed.state, claimed.assignee, claimed.status, claimed.updated_datetime) == (
        "assigned", "rosa", "open", START + timedelta(minutes=10))
    clock.advance(minutes=10)
    asked = desk.ask_details(service_request_id=number, actor=ROADS, text="  Which side of the street?  ")
    assert (asked.state, asked.status_notes) == ("waiting_citizen", None)
    clock.advance(minutes=10)
    answered = desk.reply(service_request_id=number, actor=ROADS, text="A crew fills it tomorrow morning.")
    assert (answered.state, answered.status, answered.status_notes, answered.assignee) == (
        "answered", "open", "A crew fills it tomorrow morning.", "rosa")
    clock.advance(minutes=10)
    closed = desk.close(service_request_id=number, actor=ROADS, note="Filled.")
    assert (closed.state, closed.status, closed.status_notes, closed.updated_datetime) == (
        "closed", "closed", "Filled.", START + timedelta(minutes=40))
    assert [(e.kind, e.actor, e.at, e.text) for e in closed.events] == [
        ("opened", "assistant", START, None),
        ("claimed", "rosa", START + timedelta(minutes=10), None),
        ("asked_details", "rosa", START + timedelta(minutes=20), "Which side of the street?"),
        ("replied", "rosa", START + timedelta(minutes=30), "A crew fills it tomorrow morning."),
        ("closed", "rosa", START + timedelta(minutes=40), "Filled."),
    ]


def test_each_message_to_the_citizen_goes_to_the_outbox_once_with_its_event_key(desk):
    number = open_pothole(desk).service_request_id
    desk.ask_details(service_request_id=number, actor=ROADS, text="Which side of the street?")
    case = desk.reply(service_request_id=number, actor=ROADS, text="A crew fills it tomorrow.")
    asked, replied = case.events[1], case.events[2]
    pending = waiting_for(desk.sessions, channel="web", conversation_id=CONVERSATION)
    assert [(m.idempotency_key, m.text, m.case_id, m.created_at, m.delivered_at, m.attempts) for m in pending] == [
        (f"event-{asked.id}", f"{number}: Which side of the street?", case.id, START, None, 0),
        (f"event-{replied.id}", f"{number}: A crew fills it tomorrow.", case.id, START, None, 0),
    ]
    mark_fetched(desk.sessions, [pending[0].id], desk.now())
    mark_fetched(desk.sessions, [pending[0].id], desk.now())  # a second delivery report changes nothing
    assert [m.idempotency_key for m in waiting_for(desk.sessions, channel="web", conversation_id=CONVERSATION)] == [
        f"event-{replied.id}"]


def test_a_reply_to_a_closed_case_is_refused_and_queues_nothing(desk):
    number = open_pothole(desk).service_request_id
    desk.close(service_request_id=number, actor=ROADS)
    for change in (lambda: desk.reply(service_request_id=number, actor=ROADS, text="Done."),
                   lambda: desk.ask_details(service_request_id=number, actor=ROADS, text="Where?"),
                   lambda: desk.claim(service_request_id=number, actor=ROADS),
                   lambda: desk.close(service_request_id=number, actor=ROADS)):
        with pytest.raises(CaseError, match=f"case {number} is closed"):
            change()
    assert kinds(desk.get(number)) == ["opened", "closed"]
    assert waiting_for(desk.sessions, channel="web", conversation_id=CONVERSATION) == []


def test_a_20000_character_reply_is_refused_naming_the_limit(desk):
    number = open_pothole(desk).service_request_id
    with pytest.raises(CaseError, match=f"the message is 20000 characters long; the limit is {MAX_STAFF_TEXT_CHARS}"):
        desk.reply(service_request_id=number, actor=ROADS, text="x" * 20_000)
    with pytest.raises(CaseError, match="the message is empty"):
        desk.reply(service_request_id=number, actor=ROADS, text="  \n ")
    case = desk.get(number)
    assert (case.state, case.status_notes, kinds(case)) == ("new", None, ["opened"])
    assert waiting_for(desk.sessions, channel="web", conversation_id=CONVERSATION) == []
    assert desk.reply(service_request_id=number, actor=ROADS, text="y" * MAX_STAFF_TEXT_CHARS).state == "answered"


def test_reassign_moves_the_case_with_its_reason(desk, clock):
    number = open_pothole(desk).service_request_id
    desk.claim(service_request_id=number, actor=ROADS)
    clock.advance(minutes=5)
    moved = desk.reassign(service_request_id=number, actor=ROADS, department="waste",
                          reason=" Dumped rubble, not a pothole ")
    assert (moved.agency_responsible, moved.assignee, moved.state, moved.status) == ("waste", None, "new", "open")
    event = moved.events[-1]
    assert (event.kind, event.actor, event.at, event.text, event.data) == (
        "reassigned", "rosa", START + timedelta(minutes=5), "Dumped rubble, not a pothole",
        {"from": "public-works", "to": "waste"})
    # the department that gave it away no longer sees it; the one that got it does
    with pytest.raises(LookupError):
        desk.get(number, ROADS)
    assert desk.get(number, WASTE).agency_responsible == "waste"


def test_reassign_refuses_an_unknown_department_a_missing_reason_and_the_same_department(desk):
    number = open_pothole(desk).service_request_id
    with pytest.raises(CaseError, match="unknown department 'roads-and-bridges'"):
        desk.reassign(service_request_id=number, actor=ROADS, department="roads-and-bridges", reason="wrong one")
    for reason in ("", "   "):
        with pytest.raises(CaseError, match="say why the case goes to another department"):
            desk.reassign(service_request_id=number, actor=ROADS, department="waste", reason=reason)
    with pytest.raises(CaseError, match="the case is already with Public Works"):
        desk.reassign(service_request_id=number, actor=ROADS, department="public-works", reason="mine")
    case = desk.get(number)
    assert (case.agency_responsible, kinds(case)) == ("public-works", ["opened"])


def test_staff_of_another_department_can_neither_see_nor_change_a_case(desk):
    number = open_pothole(desk).service_request_id
    with pytest.raises(LookupError, match=f"no case {number}"):
        desk.get(number, WASTE)
    changes = (lambda: desk.claim(service_request_id=number, actor=WASTE),
               lambda: desk.reply(service_request_id=number, actor=WASTE, text="Not ours."),
               lambda: desk.ask_details(service_request_id=number, actor=WASTE, text="Where?"),
               lambda: desk.reassign(service_request_id=number, actor=WASTE, department="waste", reason="mine"),
               lambda: desk.close(service_request_id=number, actor=WASTE))
    for change in changes:
        with pytest.raises(LookupError, match=f"no case {number}"):
            change()
    case = desk.get(number)
    assert (case.state, case.assignee, case.agency_responsible, kinds(case)) == ("new", None, "public-works",
                                                                               ["opened"])
    assert desk.inbox(WASTE) == []
    assert [c.service_request_id for c in desk.inbox(ROADS)] == [number]
    # an unknown number looks the same as another department's case
    with pytest.raises(LookupError, match="no case CD-2026-999999"):
        desk.get("CD-2026-999999", ROADS)


def test_a_supervisor_sees_and_changes_every_department(desk):
    number = open_pothole(desk).service_request_id
    assert desk.get(number, SUPERVISOR).service_request_id == number
    assert desk.claim(service_request_id=number, actor=SUPERVISOR).assignee == "sam"
    assert [c.service_request_id for c in desk.inbox(SUPERVISOR)] == [number]


def test_escalate_overdue_escalates_once_and_queues_one_notice_to_the_head_and_one_to_the_duty_officer(desk, clock):
    number = open_pothole(desk).service_request_id
    head = DIRECTORY.department("public-works").head
    clock.advance(hours=3)
    assert desk.escalate_overdue() == []  # due now, not yet overdue
    clock.advance(seconds=1)
    [escalated] = desk.escalate_overdue()
    assert (escalated.service_request_id, escalated.escalated_at) == (number, START + timedelta(hours=3, seconds=1))
    event = escalated.events[-1]
    assert (event.kind, event.actor, event.data) == ("escalated", "assistant", {"notified": head.email})
    subject = f"[CityDesk] Overdue: {number} for Public Works (due 2026-11-23 12:00 EST)"
    for address in (head.email, DIRECTORY.duty_officer.email):
        [notice] = [m for m in waiting_for(desk.sessions, channel="email", conversation_id=address)
                    if "Overdue" in m.text]
        assert (notice.idempotency_key.startswith(f"mail-overdue-{escalated.id}-"), notice.case_id) == (
            True, escalated.id)
        assert notice.text.startswith(f"Subject: {subject}\n\n")
    clock.advance(days=1)
    assert desk.escalate_overdue() == []
    assert len(waiting_for(desk.sessions, channel="email", conversation_id=DIRECTORY.duty_officer.email)) == 1
    assert kinds(desk.get(number)) == ["opened", "escalated"]


def test_closed_cases_are_not_escalated(desk, clock):
    number = open_pothole(desk).service_request_id
    desk.close(service_request_id=number, actor=ROADS)
    clock.advance(days=10)
    assert desk.escalate_overdue() == []


def test_an_emergency_case_queues_an_alert_to_the_duty_officer(desk):
    case = open_pothole(desk, description="Gas smell near the school", sla=SLA.EMERGENCY, category=None,
                        assignment=route_case(directory=DIRECTORY))
    assert (case.is_emergency, case.sla, case.expected_datetime) == (True, "emergency", START)
    officer = DIRECTORY.duty_officer
    [alert] = waiting_for(desk.sessions, channel="email", conversation_id=officer.email)
    assert (alert.idempotency_key, alert.case_id) == (f"mail-emergency-{case.id}", case.id)
    assert alert.text.startswith(f"Subject: [CityDesk] EMERGENCY {case.service_request_id} (Citizen Services)\n")


def test_an_ordinary_case_queues_no_alert_to_the_duty_officer(desk):
    open_pothole(desk)
    assert waiting_for(desk.sessions, channel="email", conversation_id=DIRECTORY.duty_officer.email) == []


def test_cases_write_their_notices_and_staff_answers_into_the_conversation(sessions):
    desk = CaseDesk(sessions, default_directory(), "America/New_York",
                    transcript=TranscriptWriter(sessions, redact=str))
    assignment = route_case(directory=desk.directory, category=desk.directory.category("pothole"), entry_matches=[])
    case = desk.open_case(description="pothole at 12 Oak St", channel="telegram", conversation_id="tg-5",
                          sla=SLA.SIMPLE, assignment=assignment)
    officer = Actor("pat", role="staff", department=case.agency_responsible)
    desk.reply(service_request_id=case.service_request_id, actor=officer, text="Fixed this morning.")
    desk.close(service_request_id=case.service_request_id, actor=officer)
    with sessions() as session:
        rows = list(session.scalars(select(TranscriptRecord).where(TranscriptRecord.conversation_id == "tg-5")
                                    .order_by(TranscriptRecord.id)))
    assert [(r.author_role, r.author) for r in rows] == [("system", None), ("staff", "pat"), ("system", None)]
    assert rows[0].public_text.startswith(f"Case {case.service_request_id} opened for Public Works (simple), "
                                          "expected by 2026-")
    assert rows[1].public_text == f"{case.service_request_id}: Fixed this morning."
    assert rows[2].public_text == f"Case {case.service_request_id} closed."
    assert {r.case_id for r in rows} == {case.service_request_id}
    assert verify(sessions).ok
