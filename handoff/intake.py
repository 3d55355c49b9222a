"""One citizen message in, one outcome out: search, classify, decide, route, open a case, record."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from accounts import Account, account_suffix_of, default_account
from handoff.categories import CategoryClassifier
from handoff.decide import Decision, Route, decide
from handoff.directory import SLA, Category
from handoff.message_kind import deadline_class, is_follow_up, refers_back
from handoff.models import Case, CaseStatus
from handoff.places import find_address
from handoff.routing import route_case
from handoff.service import CASE_NUMBER, CaseDesk
from knowledge_base.bands import Band
from knowledge_base.candidates import Source
from knowledge_base.learning import PhrasingLearner
from knowledge_base.service import Answer, KnowledgeBase

CHANNEL_PREFIXES = {"web": "web", "tg": "telegram", "x": "x"}
CHOSEN_REASON = "chosen from clarification"
FOLLOW_UP_REASON = "the citizen's reply to a case waiting for them"
ADDED_REASON = "new information on the conversation's open case"
# How deep a chosen entry is looked for among the entries found for the message: deeper than the options offered,
# so that a choice survives a small change to the knowledge base between the question and the click.
CHOICE_DEPTH = 10


def channel_of(conversation_id: str) -> str:
    """The channel a conversation is on: every connector prefixes its conversation ids (web-, tg-, x-)."""
    return CHANNEL_PREFIXES.get(conversation_id.split("-", 1)[0], "rest")


@dataclass(frozen=True)
class IncomingMessage:
    text: str
    conversation_id: str
    channel: str = "web"
    intent: str | None = None
    address: str | None = None
    lat: float | None = None
    long: float | None = None
    service_code: str | None = None  # a filed request (Open311) names its category and wants a case, not an answer
    contact: dict[str, str] | None = None  # the filer's personal contact data, kept on the case
    declined: bool = False  # the citizen was offered entries for this message ("Did you mean …?") and chose none
    account: str | None = None  # the city's account written to; None: the one the conversation id names


@dataclass(frozen=True)
class Outcome:
    decision: Decision
    answer: Answer
    case: Case | None = None


class Intake:
    def __init__(self, *, knowledge_base: KnowledgeBase, classifier: CategoryClassifier, cases: CaseDesk,
                 out_of_scope_below: float, learner: PhrasingLearner | None = None,
                 accounts: Sequence[Account] = ()) -> None:
        self._kb = knowledge_base
        self._accounts = list(accounts)  # the city's accounts: a case records its own, routed to its department
        self._learner = learner  # None: nothing is learned from resolved questions
        self._classifier = classifier
        self._cases = cases
        self._out_of_scope_below = out_of_scope_below

    def handle(self, message: IncomingMessage) -> Outcome:
        """Decide on one message; a follow-up on an open case ("is it fixed yet?") comes out with that case."""
        followed_up = self._followed_up(message)
        answer = self._kb.answer(message.text)
        category: Category | None
        if message.service_code is not None:
            category = self._cases.directory.category(message.service_code)
            answer_entry = None  # a filed request is handled as reported, even when the text reads like a question
        else:
            category, _ = self._classifier.classify(message.text, vector=answer.vector)
            answer_entry = None if message.declined else answer.entry
        offer = message.service_code is None and not message.declined
        options = [h.entry for h in answer.options] if offer else []
        confirm_entry = answer.proposed if offer and answer.band is Band.CONFIRM else None
        decision = decide(intent=message.intent, text=message.text, answer_entry=answer_entry,
                          best_confidence=answer.confidence, category=category,
                          out_of_scope_below=self._out_of_scope_below, options=options,
                          declined=message.declined, confirm_entry=confirm_entry,
                          follow_up=followed_up is not None or self._names_a_case(message))
        if message.declined and self._learner is not None and answer.proposed is not None:
            # "No" to the answer the message got: the text is not a phrasing of that entry
            self._learner.record_rejection(message.text, answer.proposed.id, conversation_id=message.conversation_id)
        follow_up = self._follow_up(message, decision, answer) or self._new_information(message, decision, answer)
        if follow_up is not None:
            return follow_up
        case = followed_up if decision.route == Route.STATUS else None
        if case is not None:
            case = self._cases.status_asked(service_request_id=case.service_request_id, text=message.text)
        if decision.route in (Route.CASE, Route.EMERGENCY):
            case = self._open_case(message, decision, answer)
        self._cases.record_decision(channel=message.channel, conversation_id=message.conversation_id,
                                    text=message.text, intent=message.intent, route=decision.route.value,
                                    reason=decision.reason,
                                    entry_id=decision.entry.id if decision.entry else None,
                                    confidence=answer.confidence if answer.results else None, case=case)
        return Outcome(decision=decision, answer=answer, case=case)

    def choose(self, *, text: str | None, conversation_id: str, channel: str, entry_id: str) -> Outcome | None:
        """The citizen chose `entry_id` among the entries offered for `text`: answer with it, and record that.

        `text` None: a button pressed after the conversation moved on (Telegram keeps old buttons); the entry
        is found through its own question. None when the entry is not among those found (unknown, retired,
        or never offered).
        """
        from_old_button = text is None  # the text is then the entry's own question: nothing to learn
        if text is None:
            published = next((i.entry for i in self._kb.published() if i.entry.id == entry_id), None)
            if published is None:
                return None
            text = published.question
        answer = self._kb.answer(text, top_k=CHOICE_DEPTH)
        hit = next((h for h in answer.results if h.entry.id == entry_id), None)
        if hit is None:
            return None
        decision = Decision(Route.ANSWER, CHOSEN_REASON, entry=hit.entry)
        if self._learner is not None and not from_old_button:
            self._learner.record(text, entry_id, conversation_id=conversation_id, source=Source.CLARIFICATION)
        self._cases.record_decision(channel=channel, conversation_id=conversation_id, text=text,
                                    intent="choose_entry", route=decision.route.value, reason=decision.reason,
                                    entry_id=entry_id, confidence=hit.confidence, case=None)
        return Outcome(decision=decision, answer=answer)

    def _followed_up(self, message: IncomingMessage) -> Case | None:
        """The conversation's newest open case, when the message only asks after it (none for a filed request)."""
        if message.service_code is not None or message.declined or not is_follow_up(message.text) \
                or self._names_a_case(message):
            return None
        return next((c for c in self._cases.for_conversation(message.conversation_id)
                     if c.status == CaseStatus.OPEN), None)

    @staticmethod
    def _names_a_case(message: IncomingMessage) -> bool:
        """A citizen's message naming a case number asks after that case (the status lookup finds it)."""
        return message.service_code is None and not message.declined and bool(CASE_NUMBER.search(message.text))

    def _follow_up(self, message: IncomingMessage, decision: Decision, answer: Answer) -> Outcome | None:
        """The citizen's next message after the department asked them for details: it goes into the waiting case's
        thread and the case's clock runs again. An emergency is still an emergency, and a status question is
        answered as one, and courtesy alone ("thanks!") is not the details asked for; None when no case of the
        conversation waits for the citizen."""
        if message.service_code is not None or decision.route in (Route.EMERGENCY, Route.STATUS, Route.SMALLTALK):
            return None
        waiting = self._cases.waiting_for_citizen(message.conversation_id)
        if waiting is None:
            return None
        case = self._cases.citizen_replied(service_request_id=waiting.service_request_id, text=message.text)
        return self._attached(message, case, FOLLOW_UP_REASON, answer)

    def account_of(self, message: IncomingMessage) -> Account | None:
        """The account the message was written to: named by the message, else by its conversation id, else the
        channel's default; None for a channel without accounts (Open311) or an account no longer listed."""
        name = message.account or account_suffix_of(message.conversation_id)
        if name is None:
            return default_account(self._accounts, message.channel)
        return next((a for a in self._accounts if a.name == name), None)

    def _new_information(self, message: IncomingMessage, decision: Decision, answer: Answer) -> Outcome | None:
        """A report in a conversation with an open case that is about the same matter ("it is getting bigger, a car
        hit it"): into that case's thread, its officer told, no second case. So is a message that seems out of
        scope on its own but points back at the case ("it is much deeper now"). None when the message brings a
        matter of its own (`same_matter`) or the conversation has no open case."""
        if message.service_code is not None or message.declined:
            return None
        if decision.route != Route.CASE and not (decision.route == Route.OUT_OF_SCOPE and refers_back(message.text)):
            return None
        case = next((c for c in self._cases.for_conversation(message.conversation_id)
                     if c.status == CaseStatus.OPEN), None)
        if case is None or not same_matter(case, message.text, decision.category):
            return None
        case = self._cases.follow_up(service_request_id=case.service_request_id, text=message.text)
        return self._attached(message, case, ADDED_REASON, answer)

    def _attached(self, message: IncomingMessage, case: Case, reason: str, answer: Answer) -> Outcome:
        """The message went into an existing case's thread: its decision recorded against that case."""
        decision = Decision(Route.CASE, reason, sla=SLA(case.sla))
        self._cases.record_decision(channel=message.channel, conversation_id=message.conversation_id,
                                    text=message.text, intent=message.intent, route=decision.route.value,
                                    reason=decision.reason, entry_id=None, confidence=None, case=case)
        return Outcome(decision=decision, answer=answer, case=case)

    def _open_case(self, message: IncomingMessage, decision: Decision, answer: Answer) -> Case:
        account = self.account_of(message)
        assignment = route_case(directory=self._cases.directory, category=decision.category,
                                entry_matches=[(h.entry.department, h.confidence) for h in answer.results],
                                account=account)
        return self._cases.open_case(description=message.text, channel=message.channel,
                                     account=account.name if account else message.account,
                                     conversation_id=message.conversation_id, sla=decision.sla or SLA.REVIEW,
                                     assignment=assignment, category=decision.category,
                                     address=message.address or find_address(message.text),
                                     lat=message.lat, long=message.long, contact=message.contact)


def same_matter(case: Case, text: str, category: Category | None) -> bool:
    """Whether a report is more about an open case rather than a matter of its own: the case's category (or none,
    said as a statement: a question or a suggestion is its own matter), and no other address than the case's."""
    if category is not None:
        if category.code != case.service_code:
            return False
    elif deadline_class(None, text) != SLA.REVIEW:
        return False
    address = find_address(text)
    return address is None or case.address is None or _place(address) == _place(case.address)


_STREET_WORDS = {"street": "st", "avenue": "ave", "road": "rd", "boulevard": "blvd", "drive": "dr", "lane": "ln",
                 "place": "pl", "court": "ct"}


def _place(address: str) -> str:
    """An address to compare: "14 Elm Street" and "14 elm st." are one place."""
    words = address.casefold().replace(".", " ").replace(",", " ").split()
    return " ".join(_STREET_WORDS.get(w, w) for w in words)
