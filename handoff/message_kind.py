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


def requests_a_person(text: str) -> bool:
    """Whether a message asks a person to act or to get in touch ("can someone look at my bill", "call me")."""
    return bool(_REQUEST.search(text))


def asks_for_information(intent: str | None, text: str) -> bool:
    """Whether a message is a question asking for information (rules in the module's doc)."""
    return deadline_class(intent, text) == SLA.SIMPLE


# Small talk around a message: greetings, thanks, farewells, praise and a signature. A clause made of nothing else
# carries no matter of its own ("Thanks, Dana Whitfield"); what is left is what the message is about.
_CLAUSE = re.compile(r"(?:[^.?!,;:\n]|(?<=\d)[.,:](?=\d))+")  # "303.555.0199" and "5:30" stay whole
_SMALLTALK_CLAUSE = re.compile(
    r"^(hi|hello|hey|heyo|hiya|howdy|yo|greetings|good (morning|afternoon|evening|day)|dear \w+|"  # greetings
    r"(many |a (big |huge )?)?(thanks|thank (you|u)|thx|ty|tysm|cheers)|much appreciated|appreciate (it|that)|"
    r"(bye|goodbye|see (ya|you)|take care|later|have a (nice|good|great|lovely) \w+|(kind |best |warm )?regards|"
    r"best( wishes)?|sincerely|yours( truly)?)|"
    r"(ok|okay|alright|all right|great|brilliant|awesome|perfect|cool|nice|lovely|super|wonderful))\b",
    re.IGNORECASE)
# Words that only ever follow a greeting, thanks or farewell in the same clause ("hi there", "thanks so much").
_SMALLTALK_TAIL = re.compile(r"^(\W*(there|all|everyone|everybody|folks|team|again|so|very|much|a lot|lots|a ton|"
                             r"a million|in advance|guys|y'?all|for now|then|you|u|all the best|alderbrook|citydesk|"
                             r"city))*\W*(?=\s|$)",
                             re.IGNORECASE)
# A signature: one to four capitalised words, a leading dash allowed ("- Marcus Lee", "María José García").
_DASHES = "-\u2013\u2014~"  # hyphen, en dash, em dash, tilde
_SIGNATURE = re.compile(rf"^[{_DASHES}\s]*([A-Z][\w'\u2019.-]*)(\s+([A-Z][\w'\u2019.-]*|de|da|van|von|der|del|la|le|"
                        r"bin|al)){0,3}\W*$")


def _is_smalltalk_clause(clause: str, *, after_smalltalk: bool) -> bool:
    rest = clause.strip()
    if not re.search(r"\w", rest):
        return True
    opened = False
    while opening := _SMALLTALK_CLAUSE.match(rest):  # "hey good morning", "ok thanks"
        opened = True
        rest = _SMALLTALK_TAIL.sub("", rest[opening.end():].strip(), count=1).strip()
        # gratitude for something is small talk whole: "thanks (so much) for the info on bin day"
        if re.match(r"(for|to)\b", rest, re.IGNORECASE):
            return True
        if not rest:
            return True
    # a name alone, right after thanks or a farewell ("Thanks, Dana Whitfield"), or signed with a dash
    return not opened and bool(_SIGNATURE.match(rest)) and (
        after_smalltalk or clause.lstrip()[:1] in _DASHES)


def without_smalltalk(text: str) -> str:
    """What a message says besides its greetings, thanks, farewells and signature ('' when nothing)."""
    kept, after_smalltalk = [], False
    for clause in _CLAUSE.findall(text.replace(" - ", ", - ")):
        if _is_smalltalk_clause(clause, after_smalltalk=after_smalltalk):
            after_smalltalk = True
            continue
        after_smalltalk = False
        kept.append(clause.strip())
    return ", ".join(k for k in kept if re.search(r"\w", k))


# A follow-up on the citizen's own matter: "is it fixed yet?", "any update?", "what's happening with my report?".
_DONE = (r"(fixed|done|repaired|resolved|sorted( out)?|finished|handled|cleared|cleaned( up)?|picked up|collected|"
         r"removed|replaced|taken care of|dealt with|looked at|looked into|checked|seen to|answered)")
_FOLLOW_UP = re.compile(
    rf"\b({_DONE}\s+(it\s+)?(yet|already)|"
    r"any\s+(update|updates|news|progress|word|feedback|answer|reply|response)\b|"
    r"(status|progress)\s+(of|on)\s+(my|our|the|this|that|it)\b|what'?s the status|whats the status|status update|"
    r"(update|news) (me|please|pls)|"
    r"(what'?s|whats|what is) (happening|going on) with\b|"
    r"(heard|hear) (anything|back)|still waiting|"
    r"when (will|is|are) (it|this|that|they|you|someone|my \w+|the \w+) (going to )?(be )?"
    rf"(get )?({_DONE}|fix|repair|come|coming)\b|"
    rf"(is|has|have|was) (it|this|that|anyone|anybody|someone|somebody|the city|you( guys)?)( been)? {_DONE}\b|"
    r"(did|has|have) (anyone|anybody|someone|somebody|the city|you( guys)?|they) (look|looked|check|checked|get|got|"
    r"fix|fixed|see|seen|read|respond|responded|reply|replied)\b|"
    r"(about|on|with|of) (my|our) (earlier |last |previous )?(report|complaint|case|request|ticket|message)\b|"
    rf"(it'?s|it is|its|they'?re) still (not|broken|out|there|happening|not {_DONE})|"
    rf"(isn'?t|hasn'?t been|not) {_DONE} yet|following up|checking in|nothing (has )?happened|never heard|"
    r"(i|we) (already |just |have |had |'ve )?(reported|told you|sent|filed|opened|submitted|complained|wrote)\b|"
    r"(my|our) (case|report|complaint|ticket|request)( number)?\W*$|"
    r"(my|our) (case|report|complaint|ticket|request)\b.{0,30}\byet\b|"
    r"(the|my|our) (case|report|complaint|ticket|request)s? (i|we) (made|sent|filed|opened|submitted|reported)|"
    r"(who|why|how long)\b.{0,40}\b(my|our) (case|report|complaint|ticket|request))",
    re.IGNORECASE)


def is_follow_up(text: str) -> bool:
    """Whether a message only asks after the citizen's earlier matter: each sentence a follow-up or small talk.

    "Is it fixed yet? Thanks" is one; "any update? also the light on Elm St is out" brings a new matter.
    """
    sentences = [s for s in _sentences(text) if without_smalltalk(s)]
    return bool(sentences) and all(_FOLLOW_UP.search(s) for s in sentences)


# Words by which a message points back at what the conversation was about ("it is deeper now", "that one is still
# there"): out of context a classifier finds no matter in it, in a conversation with an open case it is about that.
_REFERS_BACK = re.compile(r"\b(it|it'?s|its|this|that|they|them|there|still|again|also|anymore|worse|bigger|deeper|"
                          r"wider|larger|now)\b", re.IGNORECASE)


def refers_back(text: str) -> bool:
    """Whether a message points back at something said before ("it is much deeper now")."""
    return bool(_REFERS_BACK.search(without_smalltalk(text)))
