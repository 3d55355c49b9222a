"""What the assistant did with a conversation, read back from the desk's records (for `citydesk bot eval`)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Path
from pydantic import BaseModel, Field

from desk.api.deps import get_cases
from desk.api.internal_auth import require_internal_token
from handoff.decide import Route
from handoff.service import CaseDesk

# Internal: it reveals citizens' messages and cases; only our own processes call it.
router = APIRouter(prefix="/api/conversations", tags=["conversations"],
                   dependencies=[Depends(require_internal_token)])

NO_DECISION_REASON = "no decision recorded: the assistant replied by itself"


class CaseOutcome(BaseModel):
    service_request_id: str
    department: str = Field(description="The department's code.")
    department_name: str
    sla: str
    is_emergency: bool


class ConversationOutcome(BaseModel):
    conversation_id: str
    route: str = Field(description="The latest message's route: answer, clarify, case, emergency, out_of_scope, "
                                   "status, smalltalk (courtesy alone: greetings and thanks are decided too, "
                                   "since a report may be signed with thanks; also when the desk was never "
                                   "asked, as for \"are you a bot?\").")
    reason: str
    entry_id: str | None = Field(description="The knowledge base entry that answered, if any.")
    confidence: float | None
    case: CaseOutcome | None
    decisions: int = Field(description="How many of the conversation's messages the desk decided on.")


@router.get("/{conversation_id}/outcome", response_model=ConversationOutcome)
def outcome(conversation_id: str = Path(min_length=1, max_length=200),
            cases: CaseDesk = Depends(get_cases)) -> ConversationOutcome:
    """The route of the conversation's latest decided message, its entry and its case."""
    decisions = cases.decisions(conversation_id)
    if not decisions:
        return ConversationOutcome(conversation_id=conversation_id, route=Route.SMALLTALK.value,
                                   reason=NO_DECISION_REASON, entry_id=None, confidence=None, case=None,
                                   decisions=0)
    latest = decisions[-1]
    case = next((c for c in cases.for_conversation(conversation_id) if c.id == latest.case_id), None)
    case_outcome = None
    if case is not None:
        department = cases.directory.department(case.agency_responsible)
        case_outcome = CaseOutcome(service_request_id=case.service_request_id, department=department.code,
                                   department_name=department.name, sla=case.sla, is_emergency=case.is_emergency)
    return ConversationOutcome(conversation_id=conversation_id, route=latest.route, reason=latest.reason,
                               entry_id=latest.entry_id, confidence=latest.confidence, case=case_outcome,
                               decisions=len(decisions))
