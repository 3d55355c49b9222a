"""decide: exactly one route per message, in a fixed order of precedence."""

from __future__ import annotations

import pytest

from handoff.decide import ASKED_REASON, Decision, Route, decide
from handoff.directory import SLA, Category
from knowledge_base.entry import Entry

ENTRY = Entry(id="bulk", question="When is bulk trash pickup?", answer="The first Monday of each month.",
              department="Waste & Recycling")
POTHOLE = Category(code="pothole", name="Pothole", department="roads")
NOISE_REVIEW = Category(code="noise", name="Noise", department="code", sla=SLA.REVIEW)
OUT_OF_SCOPE_BELOW = 0.35


OPTIONS = (ENTRY, Entry(id="bulky", question="How do I get rid of a sofa?", answer="Book a bulky item pickup.",
                         department="Waste & Recycling"))


def route(*, intent: str | None = "ask_question", text: str = "a question", answer_entry: Entry | None = None,
          best_confidence: float = 0.5, category: Category | None = None, options: tuple[Entry, ...] = (),
          declined: bool = False, confirm_entry: Entry | None = None) -> Decision:
    return decide(intent=intent, text=text, answer_entry=answer_entry, best_confidence=best_confidence,
                  category=category, out_of_scope_below=OUT_OF_SCOPE_BELOW, options=options, declined=declined,
                  confirm_entry=confirm_entry)


def test_the_emergency_intent_comes_first_even_over_a_knowledge_base_answer():
    decision = route(intent="emergency", text="help please", answer_entry=ENTRY, best_confidence=0.9,
                     category=POTHOLE)
    assert decision == Decision(Route.EMERGENCY, "emergency", sla=SLA.EMERGENCY, category=POTHOLE)


@pytest.mark.parametrize("text", ["there is smoke coming out of the house next door", "I smell gas in the hallway",
                                  "a power line down on Elm St", "my neighbour collapsed and is not breathing",
                                  "flooding in my basement"])
@pytest.mark.parametrize("intent", [None, "ask_question", "greet", "report_problem", "out_of_scope"])
def test_emergency_wording_overrides_the_intent_when_the_knowledge_base_did_not_answer(text, intent):
    assert route(intent=intent, text=text, best_confidence=0.1) == Decision(
        Route.EMERGENCY, "emergency wording", sla=SLA.EMERGENCY)


def test_emergency_wording_in_a_question_the_knowledge_base_answers_is_answered():
    assert route(text="how do I report a gas leak?", answer_entry=ENTRY, best_confidence=0.8) == Decision(
        Route.ANSWER, "knowledge base answer above the threshold", entry=ENTRY)


def test_words_that_only_contain_an_emergency_word_are_not_an_emergency():
    assert route(text="the firefighters' fundraiser and the smokey bbq", best_confidence=0.5).route == Route.CASE


@pytest.mark.parametrize("intent", ["greet", "goodbye", "thank", "bot_challenge"])
def test_small_talk_comes_before_a_knowledge_base_answer_to_what_it_thanks_for(intent):
    assert route(intent=intent, text="thanks so much for the info about bulk pickup!", answer_entry=ENTRY,
                 best_confidence=0.9, category=POTHOLE) == Decision(Route.SMALLTALK, f"intent {intent}")


def test_status_question():
    assert route(intent="check_case_status", text="any news on my report?", answer_entry=ENTRY,
                 best_confidence=0.9) == Decision(Route.STATUS, "intent check_case_status")


@pytest.mark.parametrize(("intent", "sla"), [("report_problem", SLA.SIMPLE), ("suggest_policy", SLA.POLICY),
                                             ("request_human", SLA.REVIEW)])
def test_case_intents_open_a_case_of_their_class_even_when_the_knowledge_base_could_answer(intent, sla):
    assert route(intent=intent, answer_entry=ENTRY, best_confidence=0.9) == Decision(
        Route.CASE, f"intent {intent}", sla=sla)
    assert route(intent=intent, category=POTHOLE, best_confidence=0.1) == Decision(
        Route.CASE, f"intent {intent}", sla=sla, category=POTHOLE)


def test_a_reported_problem_takes_its_category_deadline_class():
    assert route(intent="report_problem", category=NOISE_REVIEW) == Decision(
        Route.CASE, "intent report_problem", sla=SLA.REVIEW, category=NOISE_REVIEW)


def test_a_knowledge_base_answer():
    assert route(intent="ask_question", answer_entry=ENTRY, best_confidence=0.7, category=POTHOLE) == Decision(
        Route.ANSWER, "knowledge base answer above the threshold", entry=ENTRY)
    assert route(intent=None, answer_entry=ENTRY, best_confidence=0.7) == Decision(
        Route.ANSWER, "knowledge base answer above the threshold", entry=ENTRY)


def test_the_out_of_scope_intent_without_an_answer():
    assert route(intent="out_of_scope", best_confidence=0.5, category=POTHOLE) == Decision(
        Route.OUT_OF_SCOPE, "not the city's business")


def test_far_from_every_entry_and_no_category_is_out_of_scope():
    assert route(intent=None, best_confidence=0.3499) == Decision(
        Route.OUT_OF_SCOPE, "nothing in the knowledge base comes close")


def test_far_from_every_entry_but_describing_a_category_is_a_case_of_the_category_class():
    assert route(intent=None, best_confidence=0.1, category=POTHOLE) == Decision(
        Route.CASE, "describes a pothole problem", sla=SLA.SIMPLE, category=POTHOLE)
    assert route(intent="ask_question", best_confidence=0.1, category=NOISE_REVIEW) == Decision(
        Route.CASE, "describes a noise problem", sla=SLA.REVIEW, category=NOISE_REVIEW)


QUESTIONS = ["can I appeal a parking ticket if the sign was hidden", "When does the pool open for the summer?",
             "how long after a storm do i have to clear my walk", "I was wondering whether the dump takes tires",
             "Can someone tell me who collects the recycling fees?",
             "which day does the garbage truck come to birchwood lane? just moved in",
             "thinking about getting a kayak permit, what are the rules", "are bonfires allowed on the beach"]
MATTERS = ["The tax office sent my bill to the wrong owner. I need someone to fix the record.",
           "my last water bill was $400, usually its like $90. what gives??",
           "can somebody from the library call me back about a book I returned",
           "I applied for a fence permit 6 weeks ago and nobody has responded, I'd like someone to look into it",
           "The bus was 40 minutes late again. Why?"]


@pytest.mark.parametrize("intent", ["ask_question", None, "nlu_fallback"])
@pytest.mark.parametrize("text", QUESTIONS)
def test_a_city_question_the_knowledge_base_cannot_answer_is_a_simple_case(intent, text):
    expected = Decision(Route.CASE, "a city question the knowledge base cannot answer", sla=SLA.SIMPLE)
    assert route(intent=intent, text=text, best_confidence=OUT_OF_SCOPE_BELOW) == expected
    assert route(intent=intent, text=text, best_confidence=0.59) == expected


@pytest.mark.parametrize("intent", ["ask_question", None, "nlu_fallback"])
@pytest.mark.parametrize("text", MATTERS)
def test_a_complaint_or_a_request_for_someone_to_act_is_a_review_case(intent, text):
    assert route(intent=intent, text=text, best_confidence=0.5) == Decision(
        Route.CASE, "a city matter for an official to look into", sla=SLA.REVIEW)


@pytest.mark.parametrize("intent", ["ask_question", None, "nlu_fallback"])
@pytest.mark.parametrize("text", ["the city should plant more trees along the river path",
                                  "I propose a farmers market on Sundays in the town square",
                                  "suggestion: longer opening hours at the recycling center",
                                  "It would be great if the buses had bike racks"])
def test_a_suggestion_rasa_did_not_recognise_is_a_policy_case(intent, text):
    assert route(intent=intent, text=text, best_confidence=0.5) == Decision(
        Route.CASE, "a suggestion for the city", sla=SLA.POLICY)
    assert route(intent=None, text=text, best_confidence=0.5, declined=True).sla == SLA.POLICY


def test_should_in_a_complaint_or_a_question_is_no_suggestion():
    assert route(intent=None, text="the truck should have come on Monday and nobody showed up").sla == SLA.REVIEW
    assert route(intent=None, text="should I put the bins out the night before?").sla == SLA.SIMPLE


def test_a_statement_is_a_question_when_rasa_read_it_as_one_and_reviewed_when_unclassified():
    for text in ("need info on the composting workshops", "I was charged twice for the same water bill this month",
                 "had my car towed from outside my own house, where the sign is hidden"):
        assert route(intent="ask_question", text=text).sla == SLA.SIMPLE
        assert route(intent=None, text=text).sla == SLA.REVIEW
        assert route(intent="nlu_fallback", text=text).sla == SLA.REVIEW


def test_a_category_of_the_emergency_class_makes_an_emergency():
    gas = Category(code="gas", name="Gas smell", department="water", sla=SLA.EMERGENCY)
    assert route(intent="report_problem", category=gas) == Decision(
        Route.EMERGENCY, "intent report_problem", sla=SLA.EMERGENCY, category=gas)
    assert route(intent=None, best_confidence=0.1, category=gas) == Decision(
        Route.EMERGENCY, "describes a gas problem", sla=SLA.EMERGENCY, category=gas)


CLARIFY = Decision(Route.CLARIFY, "close entries: the citizen chooses", options=OPTIONS)


@pytest.mark.parametrize("intent", ["ask_question", None, "nlu_fallback"])
def test_close_entries_and_no_answer_ask_the_citizen_to_choose(intent):
    text = "how do i get rid of old furniture?"
    assert route(intent=intent, text=text, best_confidence=0.55, options=OPTIONS) == CLARIFY
    assert route(intent=intent, text=text, best_confidence=0.55, options=OPTIONS, category=POTHOLE) == CLARIFY


@pytest.mark.parametrize("text", ["can someone from the waste office call me back about my sofa",
                                  "my bulk pickup was missed and the sofa is still on the curb",
                                  "the city should pick up furniture every week"])
def test_a_request_a_complaint_or_a_suggestion_is_handed_off_rather_than_offered_a_choice(text):
    assert route(intent=None, text=text, best_confidence=0.55, options=OPTIONS).route == Route.CASE


def test_one_option_is_no_choice():
    assert route(best_confidence=0.55, options=OPTIONS[:1]).route == Route.CASE


def test_an_answer_emergency_case_intent_or_out_of_scope_intent_comes_before_a_choice():
    assert route(answer_entry=ENTRY, best_confidence=0.8, options=OPTIONS).route == Route.ANSWER
    assert route(text="there is smoke in the stairwell", options=OPTIONS).route == Route.EMERGENCY
    assert route(intent="report_problem", options=OPTIONS).route == Route.CASE
    assert route(intent="greet", options=OPTIONS).route == Route.SMALLTALK
    assert route(intent="out_of_scope", options=OPTIONS).route == Route.OUT_OF_SCOPE


def test_none_of_the_entries_offered_hands_the_message_off_by_what_it_is_or_its_category_class():
    # the bot sends a declined message without an intent: its form decides
    assert route(intent=None, text=QUESTIONS[0], best_confidence=0.55, declined=True) == Decision(
        Route.CASE, "none of the entries offered fits", sla=SLA.SIMPLE)
    assert route(intent=None, text=MATTERS[1], best_confidence=0.55, declined=True) == Decision(
        Route.CASE, "none of the entries offered fits", sla=SLA.REVIEW)
    assert route(best_confidence=0.55, declined=True, category=POTHOLE) == Decision(
        Route.CASE, "none of the entries offered fits", sla=SLA.SIMPLE, category=POTHOLE)
    assert route(best_confidence=0.1, declined=True, intent="out_of_scope").route == Route.CASE
    assert route(text="someone collapsed in the lobby", declined=True).route == Route.EMERGENCY


@pytest.mark.parametrize("intent", [None, "ask_question", "nlu_fallback"])
def test_an_entry_of_the_confirm_band_is_an_answer_that_asks_a_question(intent):
    decision = route(intent=intent, text="when is bulk pickup?", confirm_entry=ENTRY, best_confidence=0.6,
                     category=POTHOLE, options=OPTIONS)
    assert decision == Decision(Route.ANSWER, ASKED_REASON, entry=ENTRY, ask=True)


def test_an_answer_that_asks_comes_after_emergencies_case_intents_small_talk_and_out_of_scope():
    assert route(text="smoke is coming out of the house next door", confirm_entry=ENTRY).route == Route.EMERGENCY
    assert route(intent="report_problem", confirm_entry=ENTRY, category=POTHOLE).route == Route.CASE
    assert route(intent="greet", confirm_entry=ENTRY).route == Route.SMALLTALK
    assert route(intent="out_of_scope", confirm_entry=ENTRY).route == Route.OUT_OF_SCOPE


@pytest.mark.parametrize(("text", "sla"), [
    ("can somebody from the waste office call me back about my bulk pickup", SLA.REVIEW),
    ("my bulk pickup was missed again, this is the third time", SLA.REVIEW),
    ("the city should do bulk pickup every week", SLA.POLICY)])
def test_a_request_a_complaint_or_a_suggestion_is_not_answered_and_asked_but_handed_off(text, sla):
    decision = route(intent=None, text=text, confirm_entry=ENTRY)
    assert (decision.route, decision.sla, decision.ask) == (Route.CASE, sla, False)


def test_a_declined_answer_that_asked_is_handed_off():
    decision = route(intent=None, text="when is bulk pickup?", confirm_entry=ENTRY, declined=True)
    assert (decision.route, decision.ask) == (Route.CASE, False)
