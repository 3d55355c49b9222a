"""Liveness and readiness."""

from fastapi import APIRouter, Depends

from desk.api.deps import get_knowledge_base
from knowledge_base.lifecycle import PUBLISHED
from knowledge_base.service import KnowledgeBase

router = APIRouter(tags=["health"])


@router.get("/health")
def health(kb: KnowledgeBase = Depends(get_knowledge_base)) -> dict:
    """`entries`: the published entries, those that answer citizens; `entries_by_state`: every entry by state."""
    by_state = kb.store.count_by_state()
    return {"status": "ok", "entries": by_state[PUBLISHED], "entries_by_state": by_state,
            "answer_threshold": kb.threshold}
