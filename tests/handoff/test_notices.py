"""The hand-off's e-mail notices, delivered by the outbox's SMTP sender to a real SMTP server (aiosmtpd): who gets
which notice, with the case number, the citizen's message redacted and the case link; each once."""

from __future__ import annotations

import asyncio

import pytest

from handoff.directory import SLA, default_directory
from handoff.models import Case, Role
from handoff.notices import CaseMail
from handoff.routing import route_case
from handoff.service import Actor, CaseDesk, CaseError
from handoff.staff import StaffAccounts
from outbox.mail import SmtpServer, mail_sender
from outbox.models import OutboxState
from outbox.store import for_case
from privacy import Redactor
from tests.handoff.conftest import CITY_TIMEZONE, START, FakeClock
from tests.outbox.smtp_server import Mailbox, smtp_server
from tests.transcripts.conftest import writer_for

DIRECTORY = default_directory()
HEAD = DIRECTORY.department("public-works").head.email
DUTY = DIRECTORY.duty_officer.email
DESK_URL = "http://127.0.0.1:18431"
PII_TEXT = "Huge pothole outside 14 Elm St, call me on 617-555-0142"
OFFICER = Actor("rosa.diaz@alderbrook.example", role="staff", department="public-works")


@pytest.fixture(scope="module")
def redactor() -> Redactor:
    return Redactor(["US"])


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
def desk(sessions, clock, redactor) -> CaseDesk:
    mail = CaseMail(redact=redactor.public_text, desk_url=DESK_URL, timezone=CITY_TIMEZONE, city_name="Alderbrook")
    return CaseDesk(sessions, DIRECTORY, CITY_TIMEZONE, transcript=writer_for(sessions, clock=clock), clock=clock,
                    mail=mail)


@pytest.fixture
def smtp():
    with smtp_server() as server:
        yield server


def deliver(desk: CaseDesk, smtp, clock: FakeClock) -> Mailbox:
    """One pass of the desk's e-mail sender to the test's SMTP server; the server's mailbox."""
    asyncio.run(mail_sender(desk.sessions, SmtpServer("127.0.0.1", smtp.port), sender="desk@alderbrook.example",
                            clock=clock).run_once())
    return smtp.mailbox


def open_pothole(desk: CaseDesk, text: str = PII_TEXT, **fields) -> Case:
    pothole = DIRECTORY.category("pothole")
    values = dict(description=text, channel="web", conversation_id="web-9", sla=SLA.SIMPLE,
                  assignment=route_case(directory=DIRECTORY, category=pothole), category=pothole)
    return desk.open_case(**{**values, **fields})


def assert_names_the_case(mail, case: Case) -> None:
    assert case.service_request_id in mail.subject and case.service_request_id in mail.text
    assert f"Open the case: {DESK_URL}/inbox/cases/{case.service_request_id}" in mail.text
    assert f'href="{DESK_URL}/inbox/cases/{case.service_request_id}"' in mail.html


def test_a_new_case_reaches_its_departments_head_with_the_redacted_message_and_the_link(desk, smtp, clock):
    case = open_pothole(desk)
    [mail] = deliver(desk, smtp, clock).arrived
    assert mail.recipients == (HEAD,)
    assert mail.subject == (f"[CityDesk] New case {case.service_request_id} for Public Works: "
                            "Huge pothole outside [address], call me on [phone]")
    assert_names_the_case(mail, case)
    assert "> Huge pothole outside [address], call me on [phone]" in mail.text
    assert "617-555-0142" not in mail.text + mail.html + mail.subject and "14 Elm" not in mail.text
    assert "You get this e-mail as head of Public Works." in mail.text
    [row] = for_case(desk.sessions, case.id, "email")
    assert (row.state, row.conversation_id) == (OutboxState.SENT, HEAD)


def test_an_emergency_reaches_the_duty_officer_at_once_and_the_head_too(desk, smtp, clock):
    case = open_pothole(desk, text="Gas smell near the school on Oak Street", sla=SLA.EMERGENCY, category=None,
                        assignment=route_case(directory=DIRECTORY, category=DIRECTORY.category("pothole")))
    mailbox = deliver(desk, smtp, clock)
    [alert] = mailbox.to(DUTY)
    assert alert.subject.startswith(f"[CityDesk] EMERGENCY {case.service_request_id} (Public Works): Gas smell")
    assert_names_the_case(alert, case)
    assert "You get this e-mail as the duty officer." in alert.text
    [head] = mailbox.to(HEAD)
    assert head.subject.startswith(f"[CityDesk] EMERGENCY case {case.service_request_id} for Public Works")


def test_a_reminder_goes_out_once_when_the_share_of_the_time_is_used(desk, smtp, clock):
    case = open_pothole(desk)  # 3 hours: reminded after 2 h 24 min at 80 %
    clock.advance(hours=2, minutes=23)
    assert desk.remind_before_deadlines(0.8) == []
    clock.advance(minutes=1)
    [notice] = desk.remind_before_deadlines(0.8)
    assert desk.remind_before_deadlines(0.8) == []  # once
    assert notice.to == HEAD
    reminders = [m for m in deliver(desk, smtp, clock).arrived if "Reminder" in m.subject]
    assert [m.subject for m in reminders] == [
        f"[CityDesk] Reminder: {case.service_request_id} for Public Works is due 2026-11-23 12:00 EST"]
    assert_names_the_case(reminders[0], case)


def test_a_reminder_goes_to_the_officer_who_has_the_case_and_not_for_answered_cases(desk, smtp, clock):
    mine = open_pothole(desk)
    answered = open_pothole(desk, conversation_id="web-10")
    desk.claim(service_request_id=mine.service_request_id, actor=OFFICER)
    desk.reply(service_request_id=answered.service_request_id, actor=OFFICER, text="Fixed this morning.")
    clock.advance(hours=2, minutes=30)
    assert [(n.to, mine.service_request_id in n.subject) for n in desk.remind_before_deadlines(0.8)] == [
        (OFFICER.username, True)]


def test_an_overdue_case_reaches_the_head_and_the_duty_officer_once(desk, smtp, clock):
    case = open_pothole(desk)
    clock.advance(hours=3, seconds=1)
    desk.escalate_overdue()
    desk.escalate_overdue()
    mailbox = deliver(desk, smtp, clock)
    for address in (HEAD, DUTY):
        [overdue] = [m for m in mailbox.to(address) if "Overdue" in m.subject]
        assert overdue.subject == (f"[CityDesk] Overdue: {case.service_request_id} for Public Works "
                                   "(due 2026-11-23 12:00 EST)")
        assert_names_the_case(overdue, case)
        assert "[phone]" in overdue.text and "617-555-0142" not in overdue.text


def test_a_follow_up_reaches_the_officer_of_the_case_else_the_head(desk, smtp, clock):
    case = open_pothole(desk)
    desk.follow_up(service_request_id=case.service_request_id, text="It is getting bigger, I am at 617-555-0199",
                   key="inbound-1")
    desk.claim(service_request_id=case.service_request_id, actor=OFFICER)
    desk.follow_up(service_request_id=case.service_request_id, text="Any news?", key="inbound-2")
    desk.follow_up(service_request_id=case.service_request_id, text="Any news?", key="inbound-2")  # once per key
    mailbox = deliver(desk, smtp, clock)
    [to_head] = [m for m in mailbox.to(HEAD) if "Follow-up" in m.subject]
    assert to_head.subject == (f"[CityDesk] Follow-up on {case.service_request_id} (Public Works): "
                               "It is getting bigger, I am at [phone]")
    assert "> It is getting bigger, I am at [phone]" in to_head.text
    [to_officer] = mailbox.to(OFFICER.username)
    assert to_officer.subject.endswith(": Any news?")
    assert_names_the_case(to_officer, case)
    desk.close(service_request_id=case.service_request_id, actor=OFFICER)
    with pytest.raises(CaseError, match="closed"):
        desk.follow_up(service_request_id=case.service_request_id, text="hello?", key="inbound-3")


def test_a_case_passed_to_another_department_reaches_that_departments_head(desk, smtp, clock):
    case = open_pothole(desk)
    desk.reassign(service_request_id=case.service_request_id, actor=OFFICER, department="water",
                  reason="a leaking main")
    [mail] = deliver(desk, smtp, clock).to(DIRECTORY.department("water").head.email)
    assert mail.subject.startswith(f"[CityDesk] New case {case.service_request_id} for Water & Utilities")


def test_an_open311_filer_with_an_address_gets_the_answer_by_e_mail(desk, smtp, clock):
    case = open_pothole(desk, channel="open311", conversation_id="open311-abc", contact={"email": "ann@example.org"})
    desk.reply(service_request_id=case.service_request_id, actor=OFFICER, text="Filled on Monday. Thank you!")
    [answer] = deliver(desk, smtp, clock).to("ann@example.org")
    assert answer.subject == f"Your request {case.service_request_id} to Alderbrook: an answer"
    assert "Filled on Monday. Thank you!" in answer.text
    assert [m.conversation_id for m in for_case(desk.sessions, case.id) if m.channel == "open311"] == []


def test_nothing_arrives_while_no_sender_runs(desk, smtp, clock):
    case = open_pothole(desk)
    clock.advance(hours=4)
    desk.escalate_overdue()
    assert smtp.mailbox.arrived == []
    assert {r.state for r in for_case(desk.sessions, case.id, "email")} == {OutboxState.QUEUED}


def test_an_officer_given_a_case_by_someone_else_is_told_once_and_not_when_taking_it_themselves(desk, smtp, clock):
    case = open_pothole(desk)
    with desk.sessions.begin() as session:
        stored = session.get_one(Case, case.id)
        stored.assignee = OFFICER.username
        assert desk.mail.assigned(session, stored, DIRECTORY, clock(), by=OFFICER.username) == []  # took it
        [notice] = desk.mail.assigned(session, stored, DIRECTORY, clock(), by="marcus")
        assert desk.mail.assigned(session, stored, DIRECTORY, clock(), by="marcus") == []  # once
    assert notice.to == OFFICER.username
    [mail] = deliver(desk, smtp, clock).to(OFFICER.username)
    assert mail.subject == (f"[CityDesk] Assigned to you: {case.service_request_id} (Public Works): "
                            "Huge pothole outside [address], call me on [phone]")
    assert mail.text.startswith(f"marcus assigned case {case.service_request_id} of Public Works to you")
    assert_names_the_case(mail, case)


def test_an_officers_notices_go_to_their_accounts_own_address(desk, smtp, clock):
    """Assigned to you, a follow-up, a reminder and a returned draft reach the address of the officer's staff account;
    the department's notices stay with the directory's addresses."""
    accounts = StaffAccounts(desk.sessions, DIRECTORY)
    accounts.add(username="pat", display_name="Pat Officer", password="a long enough password", role="staff",
                 department="permits", email="pat.officer@alderbrook.example")
    accounts.add(username="sam", display_name="Sam Head", password="a long enough password", role="head",
                 department="permits")
    pat, sam = Actor("pat", Role.STAFF, "permits"), Actor("sam", Role.HEAD, "permits")
    case = open_pothole(desk, text="Do I need a permit for a shed?", category=None,
                        assignment=route_case(directory=DIRECTORY, category=None,
                                              entry_matches=[("Permits & Licensing", 0.9)]))
    number = case.service_request_id
    desk.assign(service_request_id=number, actor=sam, officer="pat")
    desk.reply(service_request_id=number, actor=pat, text="No permit is needed.")  # permits reviews: a draft
    desk.return_draft(service_request_id=number, actor=sam, comment="Cite bylaw 12.")
    desk.follow_up(service_request_id=number, text="It is 8 square metres", key="inbound-7")
    clock.advance(hours=2, minutes=30)
    desk.remind_before_deadlines(0.8)
    mailbox = deliver(desk, smtp, clock)
    subjects = sorted(m.subject.split(":")[0] for m in mailbox.to("pat.officer@alderbrook.example"))
    assert subjects == ["[CityDesk] Assigned to you", "[CityDesk] Draft returned", "[CityDesk] Follow-up on "
                        f"{number} (Permits & Licensing)", "[CityDesk] Reminder"]
    [returned] = [m for m in mailbox.to("pat.officer@alderbrook.example") if "Draft returned" in m.subject]
    assert returned.text.startswith(f"sam returned your draft answer to case {number} of Permits & Licensing")
    assert "> Cite bylaw 12." in returned.text and "> No permit is needed." in returned.text
    assert_names_the_case(returned, case)
    head = DIRECTORY.department("permits").head.email
    assert [m.subject.split(" ")[1] for m in mailbox.to(head)] == ["New"]  # the new case only
    accounts.edit("pat", email="")  # without an address of their own: the head, saying why
    desk.follow_up(service_request_id=number, text="Hello?", key="inbound-8")
    [fallback] = [m for m in deliver(desk, smtp, clock).to(head) if "Follow-up" in m.subject]
    assert "(the case has no officer with an address)" in fallback.text


def test_the_citizens_words_are_escaped_in_the_html_part(desk, smtp, clock):
    open_pothole(desk, text='<script>alert("x")</script> pothole & <b>crack</b>')
    [mail] = deliver(desk, smtp, clock).arrived
    assert "<script>" not in mail.html and "&lt;script&gt;" in mail.html and "&amp;" in mail.html
    assert '> <script>alert("x")</script> pothole & <b>crack</b>' in mail.text


def test_an_officer_whose_case_is_taken_over_or_reassigned_is_told_with_the_reason(desk, smtp, clock):
    accounts = StaffAccounts(desk.sessions, DIRECTORY)
    for username, role in (("pat", "staff"), ("kim", "staff"), ("sam", "head")):
        accounts.add(username=username, display_name=username.title(), password="a long enough password",
                     role=role, department="permits", email=f"{username}@alderbrook.example")
    pat, kim, sam = (Actor(u, r, "permits") for u, r in (("pat", Role.STAFF), ("kim", Role.STAFF), ("sam", Role.HEAD)))
    case = open_pothole(desk, text="Do I need a permit for a shed?", category=None,
                        assignment=route_case(directory=DIRECTORY, category=None,
                                              entry_matches=[("Permits & Licensing", 0.9)]))
    number = case.service_request_id
    desk.claim(service_request_id=number, actor=pat)
    desk.take_over(service_request_id=number, actor=kim, reason="Pat is on leave this week")
    clock.advance(minutes=5)
    desk.assign(service_request_id=number, actor=sam, officer="pat")
    mailbox = deliver(desk, smtp, clock)
    [taken] = [m for m in mailbox.to("pat@alderbrook.example") if "No longer yours" in m.subject]
    assert taken.text.startswith(f"kim took over case {number} of Permits & Licensing, which you had. "
                                 "The reason given: Pat is on leave this week")
    assert_names_the_case(taken, case)
    [moved] = [m for m in mailbox.to("kim@alderbrook.example") if "No longer yours" in m.subject]
    assert moved.text.startswith(f"sam assigned case {number} of Permits & Licensing, which you had, to pat.")
    assert [m.subject.split(":")[0] for m in mailbox.to("pat@alderbrook.example")] == [
        "[CityDesk] No longer yours", "[CityDesk] Assigned to you"]
