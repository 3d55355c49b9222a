"""'Was this helpful?': the action server records a citizen's vote on an answer. Internal."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Request, status
from pydantic import BaseModel, ConfigDict, Field, StrictBool

from desk.api.deps import get_cases, get_knowledge_base, get_learner
from desk.api.internal_auth import Caller, require_caller
from handoff.decide import ASKED_REASON, Route
from handoff.intake import channel_of
from handoff.service import CaseDesk
from knowledge_base.candidates import Source
from knowledge_base.feedback import FeedbackStore
from knowledge_base.learning import PhrasingLearner
from knowledge_base.service import KnowledgeBase

# the actions call it with their conversation's token, for that conversation only
router = APIRouter(prefix="/api/kb", tags=["knowledge base"])


class FeedbackIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    entry_id: str = Field(min_length=1, max_length=200, description="The entry that answered.")
    entry_version: int | None = Field(default=None, ge=1, description="Its version, when the answer carried it.")
    conversation_id: str = Field(min_length=1, max_length=200)
    channel: str | None = Field(default=None, min_length=1, max_length=30,
                                description="Default: from the conversation id's prefix (web-, tg-, x-).")
    helpful: StrictBool


class FeedbackOut(BaseModel):
    id: int


def get_feedback(request: Request) -> FeedbackStore:
    return request.app.state.feedback


@router.post("/feedback", response_model=FeedbackOut, status_code=status.HTTP_201_CREATED)
def record_feedback(vote: FeedbackIn, kb: KnowledgeBase = Depends(get_knowledge_base),
                    feedback: FeedbackStore = Depends(get_feedback), cases: CaseDesk = Depends(get_cases),
                    learner: PhrasingLearner = Depends(get_learner),
                    caller: Caller = Depends(require_caller)) -> FeedbackOut:
    """Record a vote; a second vote in the same conversation on the same entry replaces the first.

    The question the entry answered in this conversation becomes a candidate phrasing of the entry ("Yes") or a
    rejection of it ("No"): knowledge_base/learning.py.
    """
    caller.check(vote.conversation_id)
    if kb.store.get(vote.entry_id) is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"There is no knowledge base entry {vote.entry_id!r}.")
    answered = next((d for d in reversed(cases.decisions(vote.conversation_id))
                     if d.route == Route.ANSWER and d.entry_id == vote.entry_id), None)
    if answered is not None:
        if vote.helpful:
            learner.record(answered.text, vote.entry_id, conversation_id=vote.conversation_id,
                           source=Source.CONFIRM if answered.reason == ASKED_REASON else Source.HELPFUL)
        else:
            learner.record_rejection(answered.text, vote.entry_id, conversation_id=vote.conversation_id)
    return FeedbackOut(id=feedback.record(entry_id=vote.entry_id, entry_version=vote.entry_version,
                                          conversation_id=vote.conversation_id,
                                          channel=vote.channel or channel_of(vote.conversation_id),
                                          helpful=vote.helpful))
