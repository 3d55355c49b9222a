"""The citizen's reply to a case waiting for them: through the intake, into the case's thread, and the clock runs
again; an emergency stays an emergency."""

from __future__ import annotations

from datetime import timedelta

import pytest

from handoff.decide import Route
from handoff.intake import FOLLOW_UP_REASON, IncomingMessage, Intake
from handoff.models import Role
from handoff.service import Actor
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


def test_an_emergency_in_a_waiting_conversation_is_still_an_emergency(intake, desk):
    case = say(intake, "There is a huge pothole on Elm Street", intent="report_problem").case
    desk.ask_details(service_request_id=case.service_request_id, actor=ROSA, text="Which house number?")
    outcome = say(intake, "there is a gas leak in the street, I can smell gas", intent="emergency")
    assert outcome.decision.route == Route.EMERGENCY and outcome.case.service_request_id != case.service_request_id
    assert desk.get(case.service_request_id).state == "waiting_citizen"
