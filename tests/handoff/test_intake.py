"""Intake: one message through the real knowledge base, classifier and case desk, and its recorded decision."""

from __future__ import annotations

from datetime import timedelta

import pytest

from accounts import Account
from handoff.decide import Route
from handoff.directory import SLA, default_directory
from handoff.intake import IncomingMessage, Intake
from handoff.service import Actor
from outbox.store import waiting_for
from tests.handoff.conftest import START
from tests.knowledge_base.conftest import SMALL_ENTRIES

CONVERSATION = "web-intake"
SUPERVISOR = Actor("sam", role="supervisor")


OUT_OF_SCOPE_BELOW = 0.35


@pytest.fixture
def intake(small_kb, classifier, desk) -> Intake:
    return Intake(knowledge_base=small_kb, classifier=classifier, cases=desk, out_of_scope_below=OUT_OF_SCOPE_BELOW)


def message(text: str, intent: str | None = None, **fields) -> IncomingMessage:
    return IncomingMessage(text=text, conversation_id=CONVERSATION, intent=intent, **fields)


def test_a_reported_pothole_opens_a_simple_public_works_case_with_the_address(intake, desk):
    outcome = intake.handle(message("There is a huge pothole outside 14 Elm St", intent="report_problem"))
    assert (outcome.decision.route, outcome.decision.sla, outcome.decision.reason) == (
        Route.CASE, SLA.SIMPLE, "intent report_problem")
    assert outcome.decision.category == default_directory().category("pothole")
    case = desk.get(outcome.case.service_request_id)
    assert (case.agency_responsible, case.service_code, case.sla, case.routing_reason) == (
        "public-works", "pothole", "simple", "category pothole")
    assert (case.address, case.channel, case.conversation_id) == ("14 Elm St", "web", CONVERSATION)
    assert case.description == "There is a huge pothole outside 14 Elm St"
    assert case.expected_datetime == START + timedelta(hours=3)


def test_an_address_the_channel_gives_wins_over_one_in_the_text(intake):
    outcome = intake.handle(message("pothole outside 14 Elm St", intent="report_problem",
                                    address="Corner of Oak Ave and Pine St", lat=42.1, long=-71.2))
    assert (outcome.case.address, outcome.case.lat, outcome.case.long) == ("Corner of Oak Ave and Pine St", 42.1,
                                                                           -71.2)


def test_an_unanswerable_city_question_becomes_a_simple_case_for_the_best_entries_department(make_kb, classifier,
                                                                                            desk):
    # a demanding threshold: the parking entry comes close, but not close enough to answer an appeal
    intake = Intake(knowledge_base=make_kb(SMALL_ENTRIES, threshold=0.95), classifier=classifier, cases=desk,
                    out_of_scope_below=OUT_OF_SCOPE_BELOW)
    outcome = intake.handle(message("can I appeal a parking ticket if the sign was hidden", intent="ask_question"))
    assert OUT_OF_SCOPE_BELOW <= outcome.answer.confidence < 0.95
    assert (outcome.decision.route, outcome.decision.sla, outcome.decision.category) == (Route.CASE, SLA.SIMPLE, None)
    assert outcome.answer.entry is None
    assert outcome.answer.results[0].entry.id == "t-ticket"
    case = desk.get(outcome.case.service_request_id)
    assert (case.agency_responsible, case.sla, case.service_code, case.address) == ("parking", "simple", None, None)
    assert case.routing_reason == "best-matching knowledge base entries"
    # a plain information question: 3 hours, not an official's 3-day review
    assert case.expected_datetime == START + timedelta(hours=3)


def test_an_emergency_opens_a_flagged_case_and_queues_an_alert_to_the_duty_officer(intake, desk):
    outcome = intake.handle(message("I smell gas in the hallway of our building"))
    assert (outcome.decision.route, outcome.decision.reason) == (Route.EMERGENCY, "emergency wording")
    assert (outcome.case.is_emergency, outcome.case.agency_responsible) == (True, "citizen-services")
    [alert] = waiting_for(desk.sessions, channel="email", conversation_id=default_directory().duty_officer.email)
    assert alert.case_id == outcome.case.id


def test_a_decision_is_recorded_for_every_message(intake, desk):
    texts = [("hello there", "greet"), ("How do I get a library card?", "ask_question"),
             ("who won the champions league final?", None), ("my trash was not picked up today", "report_problem")]
    outcomes = [intake.handle(message(text, intent)) for text, intent in texts]
    assert [o.decision.route for o in outcomes] == [Route.SMALLTALK, Route.ANSWER, Route.OUT_OF_SCOPE, Route.CASE]
    rows = desk.decisions(CONVERSATION)
    assert [(r.text, r.intent, r.route, r.reason, r.channel, r.at) for r in rows] == [
        ("hello there", "greet", "smalltalk", "intent greet", "web", START),
        ("How do I get a library card?", "ask_question", "answer", "knowledge base answer above the threshold",
         "web", START),
        ("who won the champions league final?", None, "out_of_scope", "nothing in the knowledge base comes close",
         "web", START),
        ("my trash was not picked up today", "report_problem", "case", "intent report_problem", "web", START),
    ]
    assert [(r.entry_id, r.case_id) for r in rows] == [(None, None), ("t-library", None), (None, None),
                                                       (None, outcomes[3].case.id)]
    assert [r.confidence for r in rows] == pytest.approx([o.answer.confidence for o in outcomes])
    assert outcomes[3].case.agency_responsible == "waste"
    assert [c.service_request_id for c in desk.for_conversation(CONVERSATION)] == [
        outcomes[3].case.service_request_id]


def test_a_filed_request_is_routed_by_its_service_code_and_keeps_the_contact_fields(intake, desk):
    contact = {"email": "ann@example.org", "phone": "555-0100", "device_id": "d-1", "account_id": "a-1"}
    outcome = intake.handle(IncomingMessage(text="How do I get a library card?", conversation_id="open311-x",
                                            channel="open311", intent="report_problem", service_code="missed-pickup",
                                            contact=contact))
    assert (outcome.decision.route, outcome.decision.entry) == (Route.CASE, None)
    case = desk.get(outcome.case.service_request_id)
    assert (case.service_code, case.agency_responsible, case.channel) == ("missed-pickup", "waste", "open311")
    assert (case.email, case.phone, case.device_id, case.account_id, case.first_name) == (
        "ann@example.org", "555-0100", "d-1", "a-1", None)
    [row] = desk.decisions("open311-x")
    assert (row.route, row.entry_id, row.case_id) == ("case", None, case.id)


@pytest.mark.parametrize("text", ["There is a huge pothole outside 14 Elm St",
                                  "I have lived on Elm Street for twenty years and never seen it this bad. Last week "
                                  "a car lost a wheel in a hole outside number 14. Children walk past it every day "
                                  "on the way to school. When will someone come and fill the pothole on Elm Street?"])
def test_a_message_is_embedded_once_and_classified_as_if_on_its_own(intake, classifier, embedder, monkeypatch, text):
    """The category classifier reuses the knowledge base search's vector of the message (also for a long one)."""
    alone = classifier.classify(text)
    passes: list[int] = []
    real_embed, real_message = embedder.embed, embedder.embed_message
    monkeypatch.setattr(embedder, "embed", lambda texts, **kw: passes.append(len(texts)) or real_embed(texts, **kw))
    monkeypatch.setattr(embedder, "embed_message",
                        lambda t, s: passes.append(1 + len(s)) or real_message(t, s))
    outcome = intake.handle(message(text, intent="report_problem"))
    assert len(passes) == 1
    assert outcome.decision.category == alone[0] == default_directory().category("pothole")
    assert classifier.classify(text, vector=outcome.answer.vector)[1] == pytest.approx(alone[1], abs=1e-5)


def test_a_case_records_the_account_written_to_routes_to_its_department_and_the_answer_leaves_from_it(
        small_kb, classifier, desk):
    accounts = [Account(name="telegram", channel="telegram", display_name="City"),
                Account(name="transport", channel="telegram", display_name="Transport", department="transit")]
    intake = Intake(knowledge_base=small_kb, classifier=classifier, cases=desk, out_of_scope_below=OUT_OF_SCOPE_BELOW,
                    accounts=accounts)
    to_transport = intake.handle(IncomingMessage(text="please add more seats at the station platform",
                                                 conversation_id="tg-5@transport", channel="telegram",
                                                 intent="report_problem"))
    case = desk.get(to_transport.case.service_request_id)
    assert (case.account, case.agency_responsible, case.routing_reason) == (
        "transport", "transit", "default department of account transport")
    to_city = intake.handle(IncomingMessage(text="please add more seats at the station platform",
                                            conversation_id="tg-5", channel="telegram", intent="report_problem"))
    assert desk.get(to_city.case.service_request_id).account == "telegram"
    pothole = intake.handle(IncomingMessage(text="There is a huge pothole outside 14 Elm St",
                                            conversation_id="tg-6@transport", channel="telegram",
                                            intent="report_problem"))
    assert (pothole.case.account, pothole.case.agency_responsible) == ("transport", "public-works")  # says otherwise
    desk.reply(service_request_id=case.service_request_id, actor=SUPERVISOR, text="More seats come in May.")
    [answer] = waiting_for(desk._sessions, channel="telegram", conversation_id="tg-5@transport")
    assert (answer.account, answer.text) == ("transport", f"{case.service_request_id}: More seats come in May.")
