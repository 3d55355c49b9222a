"""What happens to a citizen's message: exactly one route, from the intent, the knowledge base and rules."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from handoff.directory import SLA, Category
from handoff.message_kind import (
    asks_for_information,
    deadline_class,
    is_follow_up,
    requests_a_person,
    without_smalltalk,
)
from knowledge_base.entry import Entry


class Route(StrEnum):
    ANSWER = "answer"
    CASE = "case"
    EMERGENCY = "emergency"
    SMALLTALK = "smalltalk"
    OUT_OF_SCOPE = "out_of_scope"
    STATUS = "status"
    CLARIFY = "clarify"


SMALLTALK_INTENTS = frozenset({"greet", "goodbye", "thank", "bot_challenge"})
# Typed text the classifier took for a choice among entries offered ("the second one", "none of these"), with none
# pending: nothing for the city unless it brings a matter of its own ("the dog next door barks all night, my number
# is 303 555 0199", "none of the bins on oak st were collected").
CHOICE_INTENTS = frozenset({"choose_entry", "none_of_these"})
CASE_INTENTS = {"report_problem": SLA.SIMPLE, "suggest_policy": SLA.POLICY, "request_human": SLA.REVIEW}

# A safety net under the intent classifier: danger to life is never left to a statistical model alone.
_PERSON = (r"(he|she|they|someone|somebody|(a|the) (man|woman|child|kid|boy|girl|baby|person|guy)|"
           r"my (son|daughter|dad|father|mom|mum|mother|husband|wife|partner|friend|baby|child|kid|brother|"
           r"sister|grandma|grandpa|grandmother|grandfather))")
_EMERGENCY_PHRASES = (
    # "fire" but not the fire hydrant, fire pit or fireworks permit a citizen asks about
    r"fire(?!\s?(hydrants?|pits?|places?|works|wood|department|dept|stations?|fighters?|code|inspections?|"
    r"permits?|drills?|extinguishers?|escapes?|safety|lanes?))",
    r"flames?", r"smoke", r"gas leak", r"smell(s|ing)? (of )?gas", r"explo(sion|ded)", r"carbon monoxide",
    r"unconscious", r"unresponsive", r"not breathing", r"can'?t breathe", r"chok(ing|ed)", r"collapsed",
    r"bleeding", r"heart attack", r"seizure", r"(having|had) a stroke", r"overdos(e|ed|ing)", r"poison(ed|ing)",
    r"swallowed .{0,30}(pills|bleach|poison|medicine|medication|chemicals?|detergent|batter(y|ies))",
    r"won'?t wake up", rf"{_PERSON} (isn'?t|is not|'s not|not) (moving|responding|breathing|waking up)",
    r"drowning", r"fell (in|into|through) (the )?(river|lake|pond|creek|ice|water)",
    r"shooting", r"shots fired", r"stabbed", r"weapon", r"(with|has|pulled|waving|holding|pointing) (a )?(gun|knife)",
    r"assault(ed)?", r"broke into", r"break(ing)?[- ]in", r"intruder", r"suicid(e|al)", r"kill (my|him|her)self",
    r"hit by a (car|truck|bus|train|vehicle)", r"car crash", r"trapped",
    r"live wire", r"power line down", r"downed (power )?lines?",
    r"(power|electric(al)?) (lines?|wires?|cables?)\b.{0,40}\b(down|snapped|sparking|sparks|fallen|lying)",
    r"flood(ing|ed)? (in|into) (my|our|the) (house|home|basement|apartment)",
    r"water (is )?(pouring|rushing|coming|flooding) (in|into) (my|our|the) (house|home|basement|apartment)",
)
# Why a message without a category goes to staff, by its deadline class (handoff/message_kind.py).
STAFF_REASONS = {SLA.SIMPLE: "a city question the knowledge base cannot answer",
                 SLA.REVIEW: "a city matter for an official to look into",
                 SLA.POLICY: "a suggestion for the city"}
ASKED_REASON = "knowledge base answer in the confirm band: asks whether it answered"
STATUS_FOLLOW_UP_REASON = "asks after an earlier case"
COURTESY_REASON = "courtesy only: greetings, thanks, farewells, a signature"
EMERGENCY_WORDS = re.compile(r"\b(" + "|".join(_EMERGENCY_PHRASES) + r")\b", re.IGNORECASE)


@dataclass(frozen=True)
class Decision:
    route: Route
    reason: str
    sla: SLA | None = None
    entry: Entry | None = None
    category: Category | None = None
    options: tuple[Entry, ...] = ()  # for CLARIFY: the entries the citizen chooses from, best first
    ask: bool = False  # for ANSWER: the answer asks "Did this answer your question?" (the confirm band)


def decide(*, intent: str | None, text: str, answer_entry: Entry | None, best_confidence: float,
           category: Category | None, out_of_scope_below: float, options: Sequence[Entry] = (),
           declined: bool = False, confirm_entry: Entry | None = None, follow_up: bool = False) -> Decision:
    """The route of one message.

    `answer_entry` is the knowledge base's auto-answer (None below the threshold), `best_confidence` the
    best entry's confidence, `category` the service category the text describes, if any, `options` the close
    entries to offer when none answers (knowledge_base/clarification.py), `declined` that the citizen was
    offered entries for this message and chose none of them, `confirm_entry` the entry of the confirm band
    (knowledge_base/bands.py), given with "Did this answer your question?", `follow_up` that the message asks
    after an earlier case ("is it fixed yet?" while the conversation has one open, or a case number): its status,
    never a new case.

    The intents of courtesy and of a status check decide only when the message brings no matter of its own: a
    report signed "Thanks, Dana Whitfield" is a report, and a complaint with a phone number in it is a complaint.
    """
    intent = intent or "nlu_fallback"
    if intent == "emergency" or (EMERGENCY_WORDS.search(text) and answer_entry is None):
        return Decision(Route.EMERGENCY, "emergency" if intent == "emergency" else "emergency wording",
                        sla=SLA.EMERGENCY, category=category)
    if follow_up:
        return Decision(Route.STATUS, STATUS_FOLLOW_UP_REASON)
    if intent not in CASE_INTENTS and intent not in SMALLTALK_INTENTS and not declined and not without_smalltalk(text):
        # "thanks for the info about the bulky pickup" read as a question: courtesy, whatever the intent says
        return Decision(Route.SMALLTALK, COURTESY_REASON)
    if intent in SMALLTALK_INTENTS or intent in CHOICE_INTENTS:
        if not brings_a_matter(text, answer_entry=answer_entry, category=category, confirm_entry=confirm_entry):
            return Decision(Route.SMALLTALK, f"intent {intent}")
        intent = "nlu_fallback"  # the matter decides, not the courtesy around it
    if intent == "check_case_status":
        if is_follow_up(text) or not brings_a_matter(text, answer_entry=answer_entry, category=category,
                                                     confirm_entry=confirm_entry):
            return Decision(Route.STATUS, "intent check_case_status")
        intent = "nlu_fallback"  # a report or a question, whatever a phone number in it looked like
    if intent in CASE_INTENTS:
        # a reported problem is as urgent as its category says; policy and "a person, please" keep their class
        sla = category.sla if intent == "report_problem" and category is not None else CASE_INTENTS[intent]
        return _case(f"intent {intent}", sla, category)
    if declined:
        return _case("none of the entries offered fits", category.sla if category else deadline_class(intent, text),
                     category)
    if answer_entry is not None:
        return Decision(Route.ANSWER, "knowledge base answer above the threshold", entry=answer_entry)
    # answering and asking is for a question; a request for a person, a complaint or a suggestion goes to staff
    if confirm_entry is not None and intent != "out_of_scope" and deadline_class(intent, text) == SLA.SIMPLE:
        return Decision(Route.ANSWER, ASKED_REASON, entry=confirm_entry, ask=True)
    if intent == "out_of_scope" or (best_confidence < out_of_scope_below and category is None):
        return Decision(Route.OUT_OF_SCOPE, "not the city's business" if intent == "out_of_scope"
                        else "nothing in the knowledge base comes close")
    if len(options) >= 2 and deadline_class(intent, text) == SLA.SIMPLE:  # a choice of answers is for a question
        return Decision(Route.CLARIFY, "close entries: the citizen chooses", options=tuple(options))
    if category is not None:
        return _case(f"describes a {category.code} problem", category.sla, category)
    sla = deadline_class(intent, text)  # what the message is: a question, a matter to look into, a suggestion
    return Decision(Route.CASE, STAFF_REASONS[sla], sla=sla)


def brings_a_matter(text: str, *, answer_entry: Entry | None, category: Category | None,
                    confirm_entry: Entry | None = None) -> bool:
    """Whether a message says more than courtesy: a problem of a service category, something the knowledge base
    answers, a request for a person, or a question it may answer, besides greetings, thanks and a signature."""
    rest = without_smalltalk(text)
    if not rest:
        return False
    return (category is not None or answer_entry is not None or requests_a_person(rest)
            or (confirm_entry is not None and asks_for_information(None, rest)))


def _case(reason: str, sla: SLA, category: Category | None) -> Decision:
    """A case of the class; a category whose class is emergency makes it an emergency."""
    return Decision(Route.EMERGENCY if sla == SLA.EMERGENCY else Route.CASE, reason, sla=sla, category=category)
