"""The citizens' questions the knowledge base could not answer, from the desk's recorded decisions.

A message counts when the assistant tried to answer it from the knowledge base and could not: the intent was a
question or unclassified (ask_question, nlu_fallback or none), and the route was a case without a service
category ("a city question the knowledge base cannot answer") or out of scope because no entry came close.
Left out on purpose: problem reports, policy suggestions and requests for a person (cases by design, not
questions), messages that match a service category (service requests: a new entry would not stop the case),
emergencies, small talk, status questions, what Rasa itself judged off-topic (intent out_of_scope), and texts
retention replaced with its marker (nothing left to read or group; a redacted public view still counts).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import sessionmaker

from handoff.decide import Route
from handoff.models import Case, MessageDecision
from privacy import REMOVED_TEXT

QUESTION_INTENTS = ("ask_question", "nlu_fallback")
MAX_QUESTIONS = 2_000  # the newest; grouping compares every pair


@dataclass(frozen=True)
class UnansweredQuestion:
    id: int
    text: str
    at: datetime
    route: str
    channel: str


def unanswered_questions(sessions: sessionmaker, *, since: datetime | None = None,
                         limit: int = MAX_QUESTIONS) -> list[UnansweredQuestion]:
    """The newest questions the knowledge base could not answer, newest first."""
    query = (select(MessageDecision.id, MessageDecision.text, MessageDecision.at, MessageDecision.route,
                    MessageDecision.channel)
             .outerjoin(Case, Case.id == MessageDecision.case_id)
             .where(or_(MessageDecision.intent.is_(None), MessageDecision.intent.in_(QUESTION_INTENTS)),
                    or_(MessageDecision.route == Route.OUT_OF_SCOPE.value,
                        (MessageDecision.route == Route.CASE.value) & Case.service_code.is_(None)),
                    MessageDecision.text != REMOVED_TEXT)
             .order_by(MessageDecision.at.desc(), MessageDecision.id.desc())
             .limit(limit))
    if since is not None:
        query = query.where(MessageDecision.at >= since)
    with sessions() as session:
        return [UnansweredQuestion(*row) for row in session.execute(query)]


class UnansweredQuestions:
    """unanswered_questions() on the desk's database."""

    def __init__(self, sessions: sessionmaker) -> None:
        self._sessions = sessions

    def newest(self, *, since: datetime | None = None, limit: int = MAX_QUESTIONS) -> list[UnansweredQuestion]:
        return unanswered_questions(self._sessions, since=since, limit=limit)
