"""A citizen message to decide on: answered, handed to a department, or neither. Called by the actions."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends, HTTPException
from pydantic import BaseModel, Field

from desk.api.deps import get_cases, get_intake, get_knowledge_base
from desk.api.fields import CitizenText
from desk.api.internal_auth import Caller, require_caller
from desk.api.kb import Hit, hit_of
from handoff.deadlines import describe_deadline
from handoff.intake import IncomingMessage, Intake, channel_of
from handoff.models import Case
from handoff.service import CaseDesk
from knowledge_base.service import KnowledgeBase

# Internal: it decides things and reveals citizens' messages; only our own processes call it (the actions with
# their conversation's token, for that conversation only).
router = APIRouter(prefix="/api/messages", tags=["messages"])


class MessageIn(BaseModel):
    text: CitizenText
    conversation_id: str = Field(min_length=1, max_length=200)
    channel: str | None = Field(default=None, max_length=30,
                                description="Default: from the conversation id's prefix (web-, tg-, x-).")
    intent: str | None = Field(default=None, max_length=100, description="Rasa's intent, if known.")
    address: str | None = Field(default=None, max_length=500)
    lat: float | None = Field(default=None, ge=-90, le=90)
    long: float | None = Field(default=None, ge=-180, le=180)
    declined: bool = Field(default=False, description="The citizen was offered entries for this message "
                           "(route clarify) and chose none of them: hand it off.")


class CaseSummary(BaseModel):
    """What a citizen may know about their case."""

    service_request_id: str
    department: str
    department_name: str
    sla: str
    status: str
    state: str
    status_notes: str | None
    expected_datetime: datetime
    expected_text: str
    is_emergency: bool


class Option(BaseModel):
    """An entry offered to the citizen to choose from ("Did you mean …?")."""

    id: str
    question: str


class Decision(BaseModel):
    route: str = Field(description="answer, clarify, case, emergency, smalltalk, out_of_scope or status")
    reason: str
    answer: Hit | None
    case: CaseSummary | None
    options: list[Option] = Field(default=[], description="For clarify: the entries to offer, best first.")
    ask: bool = Field(default=False, description="For answer: the answer is less certain (the confirm band): "
                      "ask \"Did this answer your question?\"; a \"No\" hands the message off (declined).")


def case_summary(case: Case, cases: CaseDesk) -> CaseSummary:
    department = cases.directory.department(case.agency_responsible)
    return CaseSummary(service_request_id=case.service_request_id, department=department.code,
                       department_name=department.name, sla=case.sla, status=case.status, state=case.state,
                       status_notes=case.status_notes, expected_datetime=case.expected_datetime,
                       expected_text=describe_deadline(case.expected_datetime, cases.now(), cases.timezone),
                       is_emergency=case.is_emergency)


@router.post("", response_model=Decision)
def decide_message(message: MessageIn, intake: Intake = Depends(get_intake),
                   cases: CaseDesk = Depends(get_cases), kb: KnowledgeBase = Depends(get_knowledge_base),
                   caller: Caller = Depends(require_caller)) -> Decision:
    """Decide one message's route; opens the case when it is handed off, and records the decision."""
    caller.check(message.conversation_id)
    fields = message.model_dump()
    fields["channel"] = message.channel or channel_of(message.conversation_id)
    outcome = intake.handle(IncomingMessage(**fields))
    answered = outcome.decision.entry
    hit = next((h for h in outcome.answer.results if answered and h.entry.id == answered.id), None)
    return Decision(route=outcome.decision.route.value, reason=outcome.decision.reason,
                    answer=hit_of(hit, kb) if hit else None,
                    case=case_summary(outcome.case, cases) if outcome.case else None,
                    options=[Option(id=e.id, question=e.question) for e in outcome.decision.options],
                    ask=outcome.decision.ask)


class ChoiceIn(BaseModel):
    text: CitizenText | None = Field(default=None, description="The message the entries were offered for; null "
                                     "when the choice came after the conversation moved on (an old button).")
    conversation_id: str = Field(min_length=1, max_length=200)
    entry_id: str = Field(min_length=1, max_length=200, description="The entry the citizen chose.")
    channel: str | None = Field(default=None, max_length=30,
                                description="Default: from the conversation id's prefix (web-, tg-, x-).")


@router.post("/choice", response_model=Decision, responses={404: {"description": "The entry was not offered."}})
def choose_entry(choice: ChoiceIn, intake: Intake = Depends(get_intake),
                 kb: KnowledgeBase = Depends(get_knowledge_base), caller: Caller = Depends(require_caller)) -> Decision:
    """The citizen chose one of the entries offered for a message: answer with it, recorded as an answer."""
    caller.check(choice.conversation_id)
    outcome = intake.choose(text=choice.text, conversation_id=choice.conversation_id, entry_id=choice.entry_id,
                            channel=choice.channel or channel_of(choice.conversation_id))
    if outcome is None:
        raise HTTPException(status_code=404, detail=f"entry {choice.entry_id!r} is not among the entries found "
                            "for this message")
    hit = next(h for h in outcome.answer.results if h.entry.id == choice.entry_id)
    return Decision(route=outcome.decision.route.value, reason=outcome.decision.reason, answer=hit_of(hit, kb),
                    case=None)
