"""What a message handed to staff is: a question asking for information, a matter an official looks into, or a
suggestion.

The deadline class of a hand-off without a service category follows from it (`deadline_class`): a question a
person answers from what the city knows is a `simple` case (3 hours); a complaint or a request for someone to act
on the citizen's own matter is a `review` case (3 days); a suggestion is a `policy` case (5 days), as Rasa's
`suggest_policy` intent already makes one (handoff/decide.py).

The rule reads the form of the message, not its topic, so it holds for any city's knowledge base:

1. a request for a person to act or to get in touch ("can someone look at my bill", "please call me back") is
   for an official to look into, whatever its form;
2. a statement of what the city should do ("the city should ...", "I propose ...", "suggestion: ...") is a
   suggestion ("should have been ..." is a complaint, "should I ...?" a question);
3. a question without content of its own after a statement ("my bill was $400, usually it's $90. what gives??")
   is a complaint about what the statement says;
4. a question in form (a sentence ending in "?", opening with a question word or with a verb before its
   subject: "how do I ...", "is there ...", "can I ...", a question word before a verb and its subject anywhere:
   "..., what are the fees", or an embedded question: "I was wondering when ...") asks for information;
5. otherwise Rasa's intent decides: `ask_question` is a question; an unclassified statement is for an official
   to look into.
"""

from __future__ import annotations

import re

from handoff.directory import SLA

_QUESTION_WORD = r"(what|what's|whats|when|where|which|who|whom|whose|why|how|how's)"
_AUXILIARY = (r"(is|are|am|was|were|do|does|did|can|could|will|would|should|shall|may|might|must|has|have|had|"
              r"isn'?t|aren'?t|don'?t|doesn'?t|didn'?t|can'?t|won'?t|wouldn'?t|shouldn'?t)")
_PRONOUN = r"(i|you|u|we|it|there|they|he|she|this|that|these|those|anyone|anybody)"
_SUBJECT = rf"({_PRONOUN}|my|our|your|the|a|an|any)"
# Auxiliaries that open a question before any subject ("are fireworks legal"); the others ("was", "had", "did")
# also open casual statements without their subject ("had my car towed"), so they need a pronoun after them.
_OPENS_QUESTIONS = (r"(is|are|do|does|can|could|should|will|would|may|isn'?t|aren'?t|don'?t|doesn'?t|can'?t|"
                    r"won'?t)")
# A question opens with a question word, or with an auxiliary verb before its subject ("can I", "is there").
_QUESTION_OPENING = re.compile(rf"^\W*({_QUESTION_WORD}\b|{_OPENS_QUESTIONS}\s+\w|{_AUXILIARY}\s+{_PRONOUN}\b)",
                               re.IGNORECASE)
# A question word before an auxiliary and its subject, anywhere: "want to book the pavilion, how does that work"
# (subject-auxiliary inversion marks a direct question; a relative clause, "..., where the light is out", has none).
_INVERTED_QUESTION = re.compile(rf"\b{_QUESTION_WORD}\s+{_AUXILIARY}\s+{_SUBJECT}\b", re.IGNORECASE)
# An embedded question: "I was wondering when ...", "I'd like to know whether ...".
_EMBEDDED_QUESTION = re.compile(rf"\b(wonder|wondering|know|ask|asking|find out|tell me)\s+(if|whether|"
                                rf"{_QUESTION_WORD})\b", re.IGNORECASE)
# Asking someone to act on the citizen's matter, or to get in touch: a request, not a question for information
# (asking someone to tell or explain something is still a question).
_SOMEONE = r"(someone|somebody|a person|a human|a real person|an official|a staff member)"
_REQUEST = re.compile(
    rf"\b((can|could|would|will|please|need|want|like)\b[^.?!]{{0,20}}\b{_SOMEONE}\b(?!\s+(to\s+)?(tell|explain|"
    r"let me know|answer))|(call|contact|phone|email|e-mail|text|get back to|reach) me\b)", re.IGNORECASE)
# What the city should do: a modal of advice, or a proposal. "Should have" is a complaint about the past ("should
# have come"), unless "have" means to have something ("should have more computers": a determiner follows).
_DETERMINER = r"(a|an|the|more|less|fewer|some|any|its|their|our|free|longer|better)"
_SUGGESTION = re.compile(rf"\b(should(?!'ve\b|\s+have\s+(?!{_DETERMINER}\b))|ought to|(i|we) (suggest|propose)|"
                         r"suggestion|it would be (great|nice|good|better|helpful) (if|to))\b", re.IGNORECASE)
_SENTENCE = re.compile(r"[^.?!\n]+[.?!\n]*")
# A question this short after a statement carries no content of its own ("what gives??", "why?", "how come?").
MAX_EMPTY_QUESTION_WORDS = 3


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE.findall(text) if re.search(r"\w", s)]


def _is_question(sentence: str) -> bool:
    return (sentence.rstrip().endswith("?") or bool(_QUESTION_OPENING.match(sentence))
            or bool(_INVERTED_QUESTION.search(sentence)) or bool(_EMBEDDED_QUESTION.search(sentence)))


def deadline_class(intent: str | None, text: str) -> SLA:
    """`simple` for a question asking for information, `policy` for a suggestion, else `review` (rules above)."""
    if _REQUEST.search(text):
        return SLA.REVIEW
    sentences = _sentences(text)
    questions = [s for s in sentences if _is_question(s)]
    statements = [s for s in sentences if not _is_question(s)]
    if any(_SUGGESTION.search(s) for s in statements):
        return SLA.POLICY
    if questions and statements and all(len(q.split()) <= MAX_EMPTY_QUESTION_WORDS for q in questions):
        return SLA.REVIEW
    return SLA.SIMPLE if questions or intent == "ask_question" else SLA.REVIEW


def asks_for_information(intent: str | None, text: str) -> bool:
    """Whether a message is a question asking for information (rules in the module's doc)."""
    return deadline_class(intent, text) == SLA.SIMPLE
