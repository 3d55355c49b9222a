"""Assignment (claim, assign by the head, take-over with a reason, never a silent overwrite), review of answers, and
internal notes, on the case desk."""

from __future__ import annotations

import pytest

from handoff.directory import SLA, default_directory
from handoff.models import Role
from handoff.routing import Assignment
from handoff.service import Actor, CaseConflict, CaseDesk, CaseError, InboxView
from handoff.staff import StaffAccounts
from outbox.store import waiting_for

PASSWORD = "a long enough password"
PAT = Actor("pat", Role.STAFF, "permits")
PIA = Actor("pia", Role.STAFF, "permits")
HEAD = Actor("sam", Role.HEAD, "permits")
REVIEWER = Actor("rev", Role.STAFF, "permits", reviewer=True)
ROSA = Actor("rosa", Role.STAFF, "public-works")
CHIEF = Actor("chief", Role.SUPERVISOR)


@pytest.fixture
def staffed(desk: CaseDesk) -> CaseDesk:
    accounts = StaffAccounts(desk.sessions, default_directory())
    for actor in (PAT, PIA, HEAD, REVIEWER, ROSA, CHIEF):
        accounts.add(username=actor.username, display_name=actor.username.title(), password=PASSWORD,
                     role=actor.role, department=actor.department, reviewer=actor.reviewer)
    return desk


def open_case(desk: CaseDesk, department: str = "permits", conversation_id: str = "web-permit") -> str:
    return desk.open_case(description="Do I need a permit for a garden shed?", channel="web",
                          conversation_id=conversation_id, sla=SLA.SIMPLE,
                          assignment=Assignment(desk.directory.department(department), "test")).service_request_id


def test_an_officer_claims_an_unassigned_case_but_not_one_another_holds(staffed):
    number = open_case(staffed)
    assert staffed.claim(service_request_id=number, actor=PAT, seen_assignee=None).assignee == "pat"
    with pytest.raises(CaseConflict, match="pat has this case; to take it over, say why"):
        staffed.claim(service_request_id=number, actor=PIA)
    with pytest.raises(CaseError, match="you already have this case"):
        staffed.claim(service_request_id=number, actor=PAT)
    assert staffed.get(number).assignee == "pat"


def test_a_stale_form_never_overwrites_it_says_who_has_the_case_now(staffed):
    number = open_case(staffed)
    staffed.claim(service_request_id=number, actor=PAT, seen_assignee=None)
    # Pia's page was opened before Pat claimed: it still says nobody has it
    with pytest.raises(CaseConflict) as conflict:
        staffed.claim(service_request_id=number, actor=PIA, seen_assignee=None)
    assert str(conflict.value) == ("the case changed hands since you opened it by pat: pat has it now. Nothing was "
                                   "changed; look again before you act")
    with pytest.raises(CaseConflict):
        staffed.take_over(service_request_id=number, actor=PIA, reason="I know the site", seen_assignee=None)
    with pytest.raises(CaseConflict):
        staffed.assign(service_request_id=number, actor=HEAD, officer="pia", seen_assignee=None)
    assert staffed.get(number).assignee == "pat"
    assert [e.kind for e in staffed.get(number).events] == ["opened", "claimed"]


def test_take_over_needs_a_reason_and_records_who_took_it_from_whom_and_why(staffed):
    number = open_case(staffed)
    staffed.claim(service_request_id=number, actor=PAT)
    with pytest.raises(CaseError, match="say why you take the case over from pat"):
        staffed.take_over(service_request_id=number, actor=PIA, reason="  ", seen_assignee="pat")
    case = staffed.take_over(service_request_id=number, actor=PIA, reason="Pat is on leave", seen_assignee="pat")
    assert (case.assignee, case.state) == ("pia", "assigned")
    last = case.events[-1]
    assert (last.kind, last.actor, last.text, last.data) == ("taken_over", "pia", "Pat is on leave",
                                                              {"to": "pia", "from": "pat"})


def test_the_head_assigns_to_a_named_officer_of_the_department_only(staffed):
    number = open_case(staffed)
    with pytest.raises(CaseError, match="only the department's head or a supervisor assigns cases"):
        staffed.assign(service_request_id=number, actor=PAT, officer="pia")
    with pytest.raises(CaseError, match="rosa is not an officer of Permits & Licensing"):
        staffed.assign(service_request_id=number, actor=HEAD, officer="rosa")
    with pytest.raises(CaseError, match="nobody is not an officer"):
        staffed.assign(service_request_id=number, actor=HEAD, officer="nobody")
    case = staffed.assign(service_request_id=number, actor=HEAD, officer="pia", seen_assignee=None)
    assert (case.assignee, case.state, case.events[-1].data) == ("pia", "assigned", {"to": "pia", "from": None})
    case = staffed.assign(service_request_id=number, actor=CHIEF, officer="pat", reason="Pia is away",
                          seen_assignee="pia")
    assert (case.assignee, case.events[-1].actor, case.events[-1].text) == ("pat", "chief", "Pia is away")
    with pytest.raises(LookupError):  # another department's head does not even see the case
        staffed.assign(service_request_id=open_case(staffed, "public-works", "web-2"), actor=HEAD, officer="rosa")
    assert [o.username for o in staffed.officers("permits")] == ["pat", "pia", "rev", "sam"]


def test_in_a_reviewing_department_an_officers_answer_waits_for_a_reviewer_who_returns_then_approves(staffed):
    number = open_case(staffed)
    staffed.claim(service_request_id=number, actor=PAT)
    draft = staffed.reply(service_request_id=number, actor=PAT, text="No permit below 100 sq ft.")
    assert (draft.state, draft.draft_text, draft.draft_by, draft.status_notes, draft.answered_at) == (
        "in_review", "No permit below 100 sq ft.", "pat", None, None)
    assert waiting_for(staffed.sessions, channel="web", conversation_id="web-permit") == []
    assert [c.service_request_id for c in staffed.view(HEAD, InboxView.REVIEW)] == [number]
    with pytest.raises(CaseError, match="only the department's head, a supervisor or a reviewer"):
        staffed.approve(service_request_id=number, actor=PIA)
    with pytest.raises(CaseError, match="say what the officer should change"):
        staffed.return_draft(service_request_id=number, actor=REVIEWER, comment=" ")
    returned = staffed.return_draft(service_request_id=number, actor=REVIEWER, comment="Quote the bylaw.",
                                    draft_event_id=draft.draft_event_id)
    assert (returned.state, returned.draft_text, returned.events[-1].kind, returned.events[-1].text) == (
        "assigned", "No permit below 100 sq ft.", "draft_returned", "Quote the bylaw.")
    with pytest.raises(CaseError, match="no draft answer waits for review"):
        staffed.approve(service_request_id=number, actor=HEAD)
    second = staffed.reply(service_request_id=number, actor=PAT, text="Bylaw 12: no permit below 100 sq ft.")
    # a reviewer who read the first draft cannot approve the second unread
    with pytest.raises(CaseConflict, match="the draft changed since you opened the page"):
        staffed.approve(service_request_id=number, actor=HEAD, draft_event_id=draft.draft_event_id)
    approved = staffed.approve(service_request_id=number, actor=HEAD, draft_event_id=second.draft_event_id)
    assert (approved.state, approved.status_notes, approved.draft_text) == (
        "answered", "Bylaw 12: no permit below 100 sq ft.", None)
    assert approved.answered_at is not None
    assert (approved.events[-1].kind, approved.events[-1].actor, approved.events[-1].data) == (
        "approved", "sam", {"drafted_by": "pat"})
    assert [m.text for m in waiting_for(staffed.sessions, channel="web", conversation_id="web-permit")] == [
        f"{number}: Bylaw 12: no permit below 100 sq ft."]


def test_a_reviewer_answers_directly_and_nobody_approves_their_own_draft(staffed):
    number = open_case(staffed)
    assert staffed.reply(service_request_id=number, actor=REVIEWER, text="No permit needed.").state == "answered"
    other = open_case(staffed, conversation_id="web-other")
    staffed.reply(service_request_id=other, actor=PAT, text="Draft.")
    with pytest.raises(CaseError, match="approve or return it before closing"):
        staffed.close(service_request_id=other, actor=PAT)
    # departments without review: the answer goes out at once
    works = open_case(staffed, "public-works", "web-works")
    assert staffed.reply(service_request_id=works, actor=ROSA, text="Fixed.").state == "answered"


def test_internal_notes_stay_in_the_history_never_in_the_answer_or_the_outbox(staffed):
    number = open_case(staffed)
    case = staffed.add_note(service_request_id=number, actor=PAT, text="Neighbour complained about this shed before")
    assert (case.events[-1].kind, case.events[-1].text, case.status_notes) == (
        "note", "Neighbour complained about this shed before", None)
    assert waiting_for(staffed.sessions, channel="web", conversation_id="web-permit") == []
    staffed.close(service_request_id=number, actor=PAT, note="Answered by phone.")
    # a note after closing is still possible (the citizen called again)
    assert staffed.add_note(service_request_id=number, actor=PAT, text="Called back.").events[-1].kind == "note"
    with pytest.raises(LookupError):
        staffed.add_note(service_request_id=number, actor=ROSA, text="Not my department")


def test_inbox_views_mine_unassigned_and_awaiting_review_with_counts(staffed):
    mine, theirs, free, reviewed = (open_case(staffed, conversation_id=f"web-{n}") for n in range(4))
    open_case(staffed, "public-works", "web-works")
    staffed.claim(service_request_id=mine, actor=PAT)
    staffed.claim(service_request_id=theirs, actor=PIA)
    staffed.claim(service_request_id=reviewed, actor=PAT)
    staffed.reply(service_request_id=reviewed, actor=PAT, text="Draft answer.")
    assert [c.service_request_id for c in staffed.view(PAT, InboxView.MINE)] == [mine, reviewed]
    assert [c.service_request_id for c in staffed.view(PAT, InboxView.UNASSIGNED)] == [free]
    assert [c.service_request_id for c in staffed.view(PAT, InboxView.REVIEW)] == [reviewed]
    assert staffed.view_counts(PAT) == {InboxView.ALL: 4, InboxView.MINE: 2, InboxView.UNASSIGNED: 1,
                                        InboxView.REVIEW: 1}
    assert staffed.view_counts(CHIEF)[InboxView.ALL] == 5
    assert staffed.view_counts(CHIEF, department="public-works")[InboxView.UNASSIGNED] == 1
