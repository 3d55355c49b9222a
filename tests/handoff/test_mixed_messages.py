"""Mixed messages: a report signed with thanks and a name is a report, a phone number in a complaint does not make it
a status question, and "is it fixed yet?" in a conversation with an open case is that case's status, never a new
case. Through the real knowledge base, category classifier and case desk."""

from __future__ import annotations

import pytest

from handoff.decide import COURTESY_REASON, STATUS_FOLLOW_UP_REASON, Route, decide
from handoff.intake import IncomingMessage, Intake
from handoff.message_kind import is_follow_up, without_smalltalk
from handoff.service import SYSTEM

OUT_OF_SCOPE_BELOW = 0.35

SIGNED_REPORTS = [
    ("The street light in front of 12 Birch Ave is out. Thanks, Dana Whitfield", "streetlight"),
    ("huge pothole on Orchard Ave near the school. thank you! - Marcus Lee", "pothole"),
    ("Hi, there's graffiti all over the underpass on Railway St. Many thanks, Olusegun Adeyemi", "graffiti"),
    ("nobody collected the recycling on maple terrace this week. cheers, María José García", "missed-pickup"),
]
PHONE_COMPLAINTS = [
    "loud music next door every night, call me at 303-555-0199",
    "my neighbours play loud music until 2am every night, my number is 303-555-0142",
    "Loud party with subwoofers at 41 Oak St again tonight. 303.555.0199",
]
FOLLOW_UPS = ["is it fixed yet?", "any update?", "what's happening with my report?", "has anyone looked at it yet",
              "is the pothole fixed yet? thanks", "when will it be fixed?", "still waiting, any news?"]
COURTESY = ["thanks so much, that sorted it!", "Thanks, Dana Whitfield", "bye for now, have a nice weekend",
            "hey good morning!", "thanks for the info about bulk trash pickup"]


@pytest.fixture
def intake(small_kb, classifier, desk) -> Intake:
    return Intake(knowledge_base=small_kb, classifier=classifier, cases=desk, out_of_scope_below=OUT_OF_SCOPE_BELOW)


def message(text: str, intent: str | None, conversation: str = "web-mixed") -> IncomingMessage:
    return IncomingMessage(text=text, conversation_id=conversation, intent=intent)


@pytest.mark.parametrize(("text", "category", "intent"), [
    (text, category, intent) for (text, category), intent in zip(SIGNED_REPORTS, ["thank", "greet", "goodbye", "thank"],
                                                                  strict=True)])
def test_a_report_with_thanks_and_a_name_is_a_report_whatever_courtesy_the_intent_saw(intake, desk, text, category,
                                                                                      intent):
    outcome = intake.handle(message(text, intent))
    assert outcome.decision.route == Route.CASE
    case = desk.get(outcome.case.service_request_id)
    assert (case.service_code, case.description) == (category, text)


@pytest.mark.parametrize(("text", "intent"), list(zip(COURTESY, ["thank", "thank", "goodbye", "greet", "thank"],
                                                       strict=True)))
def test_courtesy_alone_stays_small_talk_and_opens_nothing(intake, desk, text, intent):
    outcome = intake.handle(message(text, intent))
    assert (outcome.decision.route, outcome.case) == (Route.SMALLTALK, None)
    assert desk.for_conversation("web-mixed") == []


@pytest.mark.parametrize("text", PHONE_COMPLAINTS)
def test_a_complaint_with_a_phone_number_is_a_complaint_even_when_the_intent_says_case_status(intake, desk, text):
    outcome = intake.handle(message(text, "check_case_status"))
    assert outcome.decision.route == Route.CASE
    case = desk.get(outcome.case.service_request_id)
    assert (case.service_code, case.agency_responsible) == ("noise", "code-enforcement")


@pytest.mark.parametrize("text", ["any update on my report?", "what's the status of my request", "why was my case "
                                  "closed", "any news on CD-2026-000123?"])
def test_a_real_status_question_stays_a_status_question(intake, text):
    assert intake.handle(message(text, "check_case_status")).decision.route == Route.STATUS


@pytest.mark.parametrize(("text", "intent"), list(zip(FOLLOW_UPS, ["check_case_status", "report_problem", None,
                                                                "ask_question", "report_problem", "nlu_fallback",
                                                                "thank"], strict=True)))
def test_a_follow_up_on_an_open_case_gets_that_case_and_never_opens_another(intake, desk, text, intent):
    first = intake.handle(message("There is a huge pothole outside 14 Elm St", "report_problem"))
    outcome = intake.handle(message(text, intent))
    assert (outcome.decision.route, outcome.decision.reason) == (Route.STATUS, STATUS_FOLLOW_UP_REASON)
    assert outcome.case.service_request_id == first.case.service_request_id
    assert [c.service_request_id for c in desk.for_conversation("web-mixed")] == [first.case.service_request_id]


def test_a_follow_up_gets_the_newest_open_case_and_not_a_closed_one_or_another_conversations(intake, desk):
    older = intake.handle(message("There is a huge pothole outside 14 Elm St", "report_problem")).case
    newer = intake.handle(message("the street light at 3 Oak St is out", "report_problem")).case
    intake.handle(message("graffiti on the library wall", "report_problem", conversation="web-someone-else"))
    assert intake.handle(message("any update?", "check_case_status")).case.id == newer.id
    desk.close(service_request_id=newer.service_request_id, actor=SYSTEM, note="Fixed.")
    assert intake.handle(message("is it fixed yet?", "check_case_status")).case.id == older.id


@pytest.mark.parametrize(("intent", "route"), [("check_case_status", Route.STATUS), ("report_problem", Route.CASE)])
def test_a_follow_up_without_an_open_case_is_handled_as_before(intake, intent, route):
    outcome = intake.handle(message("is the pothole fixed yet?", intent, conversation="web-nothing-open"))
    assert outcome.decision.route == route
    assert outcome.decision.reason != STATUS_FOLLOW_UP_REASON


def test_a_follow_up_that_brings_a_new_matter_is_a_new_report(intake, desk):
    intake.handle(message("There is a huge pothole outside 14 Elm St", "report_problem"))
    outcome = intake.handle(message("any update? also the street light at 3 Oak St is out", "report_problem"))
    assert outcome.decision.route == Route.CASE
    assert len(desk.for_conversation("web-mixed")) == 2


def test_what_a_message_says_besides_courtesy():
    assert without_smalltalk("The swing in Maple Park is broken. Thanks, Dana Whitfield") == (
        "The swing in Maple Park is broken")
    assert without_smalltalk("graffiti on the library wall, cheers - Tom") == "graffiti on the library wall"
    assert without_smalltalk("call me at 303.555.0199, thanks") == "call me at 303.555.0199"
    assert without_smalltalk("Hi there! Thank you so much for the help. Regards, Ana") == ""


@pytest.mark.parametrize("text", FOLLOW_UPS)
def test_follow_ups_are_recognised(text):
    assert is_follow_up(text)


@pytest.mark.parametrize("text", [t for t, _ in SIGNED_REPORTS] + PHONE_COMPLAINTS + [
    "when is bulk trash pickup?", "the city should fix the swings", "any update? the street light on Elm St is out"])
def test_reports_questions_and_suggestions_are_not_follow_ups(text):
    assert not is_follow_up(text)


@pytest.mark.parametrize(("text", "route"), [
    ("the second one", Route.SMALLTALK),
    ("The neighbours' dog barks all night. My number is 303 555 0199", Route.CASE)])
def test_typed_text_taken_for_a_choice_is_decided_on_what_it_says(intake, text, route):
    assert intake.handle(message(text, "choose_entry")).decision.route == route


@pytest.mark.parametrize("intent", ["ask_question", "nlu_fallback", "out_of_scope", "check_case_status"])
def test_courtesy_alone_is_small_talk_whatever_the_intent_but_never_for_a_case_intent(intent):
    text = "thanks for the info about bulk trash pickup!"
    assert route_of(intent, text) == (Route.SMALLTALK, COURTESY_REASON)
    assert route_of("report_problem", text)[0] == Route.CASE  # a filed request (Open311) is always a case
    assert route_of(None, text, declined=True)[0] == Route.CASE  # "none of these" hands it off


def route_of(intent: str | None, text: str, **fields) -> tuple[Route, str]:
    decision = decide(intent=intent, text=text, answer_entry=None, best_confidence=0.6, category=None,
                      out_of_scope_below=OUT_OF_SCOPE_BELOW, **fields)
    return decision.route, decision.reason
