"""The citizen's reply to a case waiting for them: through the intake, into the case's thread, and the clock runs
again; an emergency stays an emergency."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from handoff.decide import Route
from handoff.intake import ADDED_REASON, FOLLOW_UP_REASON, IncomingMessage, Intake
from handoff.models import Role
from handoff.service import Actor
from outbox.models import OutboxMessage
from settings import PROJECT_ROOT

CONVERSATION = "web-follow-up"
ROSA = Actor("rosa", Role.STAFF, "public-works")


@pytest.fixture
def intake(small_kb, classifier, desk) -> Intake:
    return Intake(knowledge_base=small_kb, classifier=classifier, cases=desk, out_of_scope_below=0.35)


def say(intake: Intake, text: str, intent: str | None = None):
    return intake.handle(IncomingMessage(text=text, conversation_id=CONVERSATION, intent=intent))


def test_the_citizens_next_message_lands_on_the_waiting_case_and_resumes_its_clock(intake, desk, clock):
    case = say(intake, "There is a huge pothole on Elm Street", intent="report_problem").case
    desk.claim(service_request_id=case.service_request_id, actor=ROSA)
    clock.advance(hours=1)
    desk.ask_details(service_request_id=case.service_request_id, actor=ROSA, text="Which house number?")
    clock.advance(hours=20)
    outcome = say(intake, "outside number 14", intent="nlu_fallback")
    assert (outcome.decision.route, outcome.decision.reason) == (Route.CASE, FOLLOW_UP_REASON)
    assert outcome.case.service_request_id == case.service_request_id
    resumed = desk.get(case.service_request_id)
    assert (resumed.state, resumed.paused_at) == ("assigned", None)
    assert resumed.expected_datetime == clock.now + timedelta(hours=2)  # 2 of the 3 hours were left
    assert (resumed.events[-1].kind, resumed.events[-1].text) == ("citizen_replied", "outside number 14")
    assert [d.reason for d in desk.decisions(CONVERSATION)][-1] == FOLLOW_UP_REASON
    # no second case, and the next message is handled as usual again
    assert [c.service_request_id for c in desk.for_conversation(CONVERSATION)] == [case.service_request_id]
    assert say(intake, "hello", intent="greet").decision.route == Route.SMALLTALK


def test_the_assistant_knows_the_follow_up_reason_by_the_same_words():
    """bot/actions (another environment) says "added to case ..." for this reason: the words must stay the same."""
    messages = (PROJECT_ROOT / "bot" / "actions" / "messages.py").read_text(encoding="utf-8")
    assert f'FOLLOW_UP_REASON = "{FOLLOW_UP_REASON}"' in messages
    assert f'ADDED_REASON = "{ADDED_REASON}"' in messages


def test_an_emergency_in_a_waiting_conversation_is_still_an_emergency(intake, desk):
    case = say(intake, "There is a huge pothole on Elm Street", intent="report_problem").case
    desk.ask_details(service_request_id=case.service_request_id, actor=ROSA, text="Which house number?")
    outcome = say(intake, "there is a gas leak in the street, I can smell gas", intent="emergency")
    assert outcome.decision.route == Route.EMERGENCY and outcome.case.service_request_id != case.service_request_id
    assert desk.get(case.service_request_id).state == "waiting_citizen"


def test_more_about_the_open_case_goes_into_its_thread_and_its_officer_is_told(intake, desk, clock):
    """Not a reply the department waits for: new information on the conversation's open case ("it got worse")."""
    case = say(intake, "There is a huge pothole outside 14 Elm Street", intent="report_problem").case
    desk.claim(service_request_id=case.service_request_id, actor=ROSA)
    expected = desk.get(case.service_request_id).expected_datetime
    clock.advance(minutes=30)
    for text in ("It is much deeper now and a car lost a hubcap in it", "The pothole at 14 Elm St. is getting wider"):
        outcome = say(intake, text, intent="report_problem")
        assert (outcome.decision.route, outcome.decision.reason) == (Route.CASE, ADDED_REASON)
        assert outcome.case.service_request_id == case.service_request_id
    thread = desk.get(case.service_request_id)
    assert [(e.kind, e.actor) for e in thread.events[-2:]] == [("citizen_follow_up", "citizen")] * 2
    assert thread.events[-2].text == "It is much deeper now and a car lost a hubcap in it"
    assert (thread.state, thread.expected_datetime) == ("assigned", expected)  # nothing asked: the clock as it was
    assert [c.service_request_id for c in desk.for_conversation(CONVERSATION)] == [case.service_request_id]
    assert [d.reason for d in desk.decisions(CONVERSATION)][-2:] == [ADDED_REASON] * 2
    # the officer's e-mails: one per follow-up (rosa's username is no address: her head gets them)
    with desk.sessions() as session:
        mails = [row for row in session.scalars(select(OutboxMessage).where(OutboxMessage.channel == "email"))
                 if "Follow-up on" in row.text]
    assert len(mails) == 2


@pytest.mark.parametrize("intent", ["out_of_scope", "nlu_fallback", None])
def test_a_message_that_points_back_at_the_open_case_is_added_to_it_whatever_the_classifier_made_of_it(intake, desk,
                                                                                                   intent):
    case = say(intake, "There is a huge pothole outside 14 Elm Street", intent="report_problem").case
    outcome = say(intake, "it's got bigger since yesterday, please hurry", intent=intent)
    assert (outcome.decision.reason, outcome.case.service_request_id) == (ADDED_REASON, case.service_request_id)
    # out of scope without a case to point at, or without pointing back, as before
    assert say(intake, "I love pizza", intent="out_of_scope").decision.route == Route.OUT_OF_SCOPE
    elsewhere = intake.handle(IncomingMessage(text="it's got bigger since yesterday, please hurry",
                                              conversation_id="web-no-case", intent=intent))
    assert elsewhere.decision.route == Route.OUT_OF_SCOPE and elsewhere.case is None


@pytest.mark.parametrize(("text", "intent"), [
    ("The street light at 3 Oak St is out", "report_problem"),  # another category
    ("There is another pothole outside 90 Maple Avenue", "report_problem"),  # another address
    ("The city should plant more trees along the river", "suggest_policy"),  # a suggestion
    ("Why does the library close at 5 on Saturdays?", None),  # a question
])
def test_a_report_of_another_matter_is_its_own_case(intake, desk, text, intent):
    first = say(intake, "There is a huge pothole outside 14 Elm Street", intent="report_problem").case
    outcome = say(intake, text, intent=intent)
    if outcome.case is not None:
        assert outcome.case.service_request_id != first.service_request_id
    assert [e.kind for e in desk.get(first.service_request_id).events] == ["opened"]


def test_a_status_question_on_the_open_case_is_noted_in_its_thread(intake, desk):
    case = say(intake, "There is a huge pothole outside 14 Elm Street", intent="report_problem").case
    outcome = say(intake, "is it fixed yet?", intent="check_case_status")
    assert (outcome.decision.route, outcome.case.service_request_id) == (Route.STATUS, case.service_request_id)
    assert [(e.kind, e.text) for e in desk.get(case.service_request_id).events][-1] == (
        "status_asked", "is it fixed yet?")
