"""What happens to a citizen's message: exactly one route, from the intent, the knowledge base and rules."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from handoff.directory import SLA, Category
from knowledge_base.entry import Entry


class Route(StrEnum):
    ANSWER = "answer"
    CASE = "case"
    EMERGENCY = "emergency"
    SMALLTALK = "smalltalk"
    OUT_OF_SCOPE = "out_of_scope"
    STATUS = "status"


SMALLTALK_INTENTS = frozenset({"greet", "goodbye", "thank", "bot_challenge"})
CASE_INTENTS = {"report_problem": SLA.SIMPLE, "suggest_policy": SLA.POLICY, "request_human": SLA.REVIEW}

# A safety net under the intent classifier: danger to life is never left to a statistical model alone.
EMERGENCY_WORDS = re.compile(
    r"\b(fire|flames?|smoke|gas leak|smell(s|ing)? (of )?gas|explosion|unconscious|not breathing|"
    r"can'?t breathe|collapsed|bleeding|heart attack|overdose|drowning|shooting|shots fired|stabbed|"
    r"weapon|assault(ed)?|live wire|power line down|downed (power )?lines?|"
    r"flood(ing|ed)? (in|into) (my|our|the) (house|home|basement)|trapped|car crash)\b",
    re.IGNORECASE)


@dataclass(frozen=True)
class Decision:
    route: Route
    reason: str
    sla: SLA | None = None
    entry: Entry | None = None
    category: Category | None = None


def decide(*, intent: str | None, text: str, answer_entry: Entry | None, best_confidence: float,
           category: Category | None, out_of_scope_below: float) -> Decision:
    """The route of one message.

    `answer_entry` is the knowledge base's auto-answer (None below the threshold), `best_confidence` the
    best entry's confidence, `category` the service category the text describes, if any.
    """
    intent = intent or "nlu_fallback"
    if intent == "emergency" or (EMERGENCY_WORDS.search(text) and answer_entry is None):
        return Decision(Route.EMERGENCY, "emergency" if intent == "emergency" else "emergency wording",
                        sla=SLA.EMERGENCY, category=category)
    if intent in SMALLTALK_INTENTS:
        return Decision(Route.SMALLTALK, f"intent {intent}")
    if intent == "check_case_status":
        return Decision(Route.STATUS, "intent check_case_status")
    if intent in CASE_INTENTS:
        return Decision(Route.CASE, f"intent {intent}", sla=CASE_INTENTS[intent], category=category)
    if answer_entry is not None:
        return Decision(Route.ANSWER, "knowledge base answer above the threshold", entry=answer_entry)
    if intent == "out_of_scope" or (best_confidence < out_of_scope_below and category is None):
        return Decision(Route.OUT_OF_SCOPE, "not the city's business" if intent == "out_of_scope"
                        else "nothing in the knowledge base comes close")
    if category is not None:
        return Decision(Route.CASE, f"describes a {category.code} problem", sla=SLA.SIMPLE, category=category)
    return Decision(Route.CASE, "a city question the knowledge base cannot answer", sla=SLA.REVIEW)
