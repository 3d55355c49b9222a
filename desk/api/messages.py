"""A citizen message to decide on: answered, handed to a department, or neither. Called by the actions."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from desk.api.deps import get_cases, get_intake
from desk.api.fields import CitizenText
from desk.api.internal_auth import require_internal_token
from desk.api.kb import Hit, hit_of
from handoff.deadlines import describe_deadline
from handoff.intake import IncomingMessage, Intake, channel_of
from handoff.models import Case
from handoff.service import CaseDesk

# Internal: it decides things and reveals citizens' messages; only our own processes call it.
router = APIRouter(prefix="/api/messages", tags=["messages"], dependencies=[Depends(require_internal_token)])


class MessageIn(BaseModel):
    text: CitizenText
    conversation_id: str = Field(min_length=1, max_length=200)
    channel: str | None = Field(default=None, max_length=30,
                                description="Default: from the conversation id's prefix (web-, tg-, x-).")
    intent: str | None = Field(default=None, max_length=100, description="Rasa's intent, if known.")
    address: str | None = Field(default=None, max_length=500)
    lat: float | None = Field(default=None, ge=-90, le=90)
    long: float | None = Field(default=None, ge=-180, le=180)


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


class Decision(BaseModel):
    route: str = Field(description="answer, case, emergency, smalltalk, out_of_scope or status")
    reason: str
    answer: Hit | None
    case: CaseSummary | None


def case_summary(case: Case, cases: CaseDesk) -> CaseSummary:
    department = cases.directory.department(case.agency_responsible)
    return CaseSummary(service_request_id=case.service_request_id, department=department.code,
                       department_name=department.name, sla=case.sla, status=case.status, state=case.state,
                       status_notes=case.status_notes, expected_datetime=case.expected_datetime,
                       expected_text=describe_deadline(case.expected_datetime, cases.now(), cases.timezone),
                       is_emergency=case.is_emergency)


@router.post("", response_model=Decision)
def decide_message(message: MessageIn, intake: Intake = Depends(get_intake),
                   cases: CaseDesk = Depends(get_cases)) -> Decision:
    """Decide one message's route; opens the case when it is handed off, and records the decision."""
    fields = message.model_dump()
    fields["channel"] = message.channel or channel_of(message.conversation_id)
    outcome = intake.handle(IncomingMessage(**fields))
    answered = outcome.decision.entry
    hit = next((h for h in outcome.answer.results if answered and h.entry.id == answered.id), None)
    return Decision(route=outcome.decision.route.value, reason=outcome.decision.reason,
                    answer=hit_of(hit) if hit else None,
                    case=case_summary(outcome.case, cases) if outcome.case else None)
