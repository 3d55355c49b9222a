"""Liveness and readiness."""

from fastapi import APIRouter, Depends

from desk.api.deps import get_knowledge_base
from knowledge_base.service import KnowledgeBase

router = APIRouter(tags=["health"])


@router.get("/health")
def health(kb: KnowledgeBase = Depends(get_knowledge_base)) -> dict:
    return {"status": "ok", "entries": kb.backend.count(), "answer_threshold": kb.threshold}
