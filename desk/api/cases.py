"""A citizen's cases and their status, for the assistant ('what's the status of my case?')."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query

from desk.api.deps import get_cases, get_redactor
from desk.api.internal_auth import Caller, require_caller
from desk.api.messages import CaseSummary, case_summary
from handoff.georeport import public_text
from handoff.service import CASE_NUMBER, CaseDesk
from privacy import Redactor

# Internal: it reveals citizens' cases; only our own processes call it (the actions with their conversation's
# token, for that conversation only).
router = APIRouter(prefix="/api/cases", tags=["cases"])

@router.get("/status", response_model=list[CaseSummary])
def case_status(conversation_id: str = Query(min_length=1, max_length=200),
                text: str | None = Query(default=None, max_length=4000,
                                         description="The citizen's message; a case number in it is looked up."),
                cases: CaseDesk = Depends(get_cases), redactor: Redactor = Depends(get_redactor),
                caller: Caller = Depends(require_caller)) -> list[CaseSummary]:
    """The case a number in the message names, else the conversation's cases, newest first.

    Anyone can type a case number, so another conversation's case is told as the public sees it (Open311):
    staff's answer redacted; the case's own conversation gets it whole.
    """
    caller.check(conversation_id)
    match = CASE_NUMBER.search(text or "")
    if match:
        number = f"{match.group(1).upper()}-{match.group(2)}-{int(match.group(3)):06d}"
        case = cases.get(number)  # none: 404 "There is no case CD-2026-000123." (desk.api.errors)
        summary = case_summary(case, cases)
        if case.conversation_id != conversation_id:
            summary.status_notes = public_text(summary.status_notes, redactor)
        return [summary]
    return [case_summary(c, cases) for c in cases.for_conversation(conversation_id)]
